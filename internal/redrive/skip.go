package redrive

// Skip says why a run left a message it selected in the DLQ.
type Skip string

// The reasons a selected message stays.
const (
	// SkipBehind: an unselected or skipped message is ahead of it in its
	// group, and moving it would let it overtake that one.
	SkipBehind Skip = "behind"
	// SkipMaxRedrives: it was redriven Tool.MaxRedrives times already.
	SkipMaxRedrives Skip = "max_redrives"
	// SkipArrived: it reached the DLQ after the run started (see snapshot).
	SkipArrived Skip = "arrived"
	// SkipParkedAgain: the run moved it back, it failed again, and the
	// forwarder (or SQS's redrive policy) parked it again.
	SkipParkedAgain Skip = "parked_again"
)

// Skips lists every Skip with what it tells the operator, in the order the
// tools report them.
var Skips = []struct {
	Skip    Skip
	Meaning string
}{
	{SkipParkedAgain, "moved back by this run, failed again and parked again; it is not moved twice in one run"},
	{SkipMaxRedrives, "redriven the maximum number of times already (--max-redrives): find out why it keeps failing; --force moves it anyway"},
	{SkipArrived, "reached the DLQ after this run started; a run moves only what the DLQ held when it started: run again to move it"},
	{SkipBehind, "an unselected or skipped message is ahead of it in its group (FIFO order): select the whole group to move it"},
}

// Meaning is what s tells the operator.
func (s Skip) Meaning() string {
	for _, e := range Skips {
		if e.Skip == s {
			return e.Meaning
		}
	}
	return string(s)
}

// Skipped is a selected message a run left in the DLQ, and why.
type Skipped struct {
	Message
	Why Skip
}
