package share

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// maxNameLen is the usual file-system limit for one path element.
const maxNameLen = 255

// NameError reports a file name that cannot be shared.
type NameError struct{ Name, Reason string }

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid file name %q: %s", e.Name, e.Reason)
}

// ValidateName accepts a single path element usable as a shared file name:
// 1..255 bytes, valid UTF-8, no '/', '\\', NUL or other control characters,
// not "." or "..", not starting with "." (hidden names are reserved: the node
// keeps its state in ".netlab"), no leading/trailing spaces. Names come from
// peers, so this is what keeps them inside the share. Errors are *NameError.
func ValidateName(name string) error {
	bad := func(reason string) error { return &NameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxNameLen:
		return bad(fmt.Sprintf("longer than %d bytes", maxNameLen))
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case name == "." || name == "..":
		return bad("reserved")
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return bad("contains a path separator")
		case r == 0:
			return bad("contains NUL")
		case unicode.IsControl(r):
			return bad("contains a control character")
		}
	}
	if name[0] == '.' {
		return bad("hidden names are reserved")
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return bad("leading or trailing space")
	}
	return nil
}

// suffixName returns "name (short id)", trimming name so the result stays
// within maxNameLen. Used when a download's name is taken by other content.
func suffixName(name string, id content.ID) string {
	suffix := " (" + id.Short() + ")"
	if limit := maxNameLen - len(suffix); len(name) > limit {
		name = name[:limit]
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
		name = strings.TrimRightFunc(name, unicode.IsSpace)
	}
	return name + suffix
}
