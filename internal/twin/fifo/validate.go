package fifo

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MD5OfMessageAttributes is the digest SQS returns as MD5OfMessageAttributes:
// over the attributes sorted by name, each encoded as length-prefixed name,
// length-prefixed data type, a transport byte (1 string/number, 2 binary) and
// the length-prefixed value. Empty for no attributes.
func MD5OfMessageAttributes(attrs map[string]Attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	writeLV := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		writeLV([]byte(name))
		writeLV([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			writeLV(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			writeLV([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// messageSize counts the body and the attributes' names, types and values,
// as SQS does against MaximumMessageSize.
func messageSize(in SendInput) int {
	n := len(in.Body)
	for name, a := range in.Attributes {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// validateBody enforces SQS's allowed characters: #x9 #xA #xD, #x20-#xD7FF,
// #xE000-#xFFFD, #x10000-#x10FFFF.
func validateBody(body string) error {
	if body == "" {
		return newError("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	if !ValidText(body) {
		return newError("InvalidMessageContents", "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	return nil
}

// ValidText reports whether SQS accepts s as message text (a body or a
// String attribute value) unchanged: UTF-8 holding only the characters
// above.
func ValidText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return false
		}
	}
	return true
}

// validFIFOID reports whether s may be a MessageGroupId or
// MessageDeduplicationId: 1 to 128 alphanumeric or punctuation characters
// (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~), so no spaces and nothing beyond ASCII.
func validFIFOID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func validateAttributes(attrs map[string]Attribute) error {
	if len(attrs) > 10 {
		return newError("InvalidParameterValue", "Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for name, a := range attrs {
		if name == "" || len(name) > 256 || strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon.") {
			return newError("InvalidParameterValue", "Message attribute name '%s' is invalid.", name)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String":
			if a.StringValue == "" || !ValidText(a.StringValue) {
				return newError("InvalidParameterValue", "Message attribute '%s' must contain a non-empty value of type 'String'.", name)
			}
		case "Number":
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return newError("InvalidParameterValue", "Message attribute '%s' must contain a non-empty value of type 'Number'.", name)
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return newError("InvalidParameterValue", "Message attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
		default:
			return newError("InvalidParameterValue", "The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	return nil
}
