package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// ParseDuration reads a routes.yaml duration: Go's time.ParseDuration syntax
// ("90s", "1h30m") plus a leading whole number of days ("4d", "1d12h").
// Negative durations are refused: no setting in routes.yaml can use one.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("negative duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil || n > uint64(math.MaxInt64/int64(day)) {
			return 0, errors.New("days must be a whole number of days before any other unit, e.g. 4d or 1d12h")
		}
		days = time.Duration(n) * day
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, errors.New("sign inside a duration")
	}
	rest, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if rest > math.MaxInt64-days {
		return 0, errors.New("duration too long")
	}
	return days + rest, nil
}

// formatDuration writes d the way routes.yaml would, days included.
func formatDuration(d time.Duration) string {
	switch {
	case d >= day && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d >= day && d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return trimZeroUnits(d.String())
}

// trimZeroUnits turns "5m0s" into "5m" and "1h0m0s" into "1h".
func trimZeroUnits(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
