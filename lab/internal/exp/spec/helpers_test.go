package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// mustParse parses text, ending the test when it does not parse.
func mustParse(t *testing.T, text string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reparsed is s written as a run writes spec.yaml and parsed again,
// ending the test when either step fails (the text in the message).
func reparsed(t *testing.T, s *spec.Spec) *spec.Spec {
	t.Helper()
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := spec.Parse(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("the spec as written does not parse again: %v\n%s", err, data)
	}
	return again
}

// edited is good with from changed into to, once; the test ends when
// good has no from (an edit that changes nothing proves nothing).
func edited(t *testing.T, good, from, to string) string {
	t.Helper()
	if !strings.Contains(good, from) {
		t.Fatalf("the good spec has no %q", from)
	}
	return strings.Replace(good, from, to, 1)
}

// badEdit changes from into to in a good spec; the spec must then fail
// with an error containing field.
type badEdit struct{ name, from, to, field string }

// checkBadEdits runs each edit of good as a subtest.
func checkBadEdits(t *testing.T, good string, edits []badEdit) {
	t.Helper()
	for _, c := range edits {
		t.Run(c.name, func(t *testing.T) { wantFieldError(t, edited(t, good, c.from, c.to), c.field) })
	}
}

// wantFieldError parses text and wants an error containing field.
func wantFieldError(t *testing.T, text, field string) {
	t.Helper()
	_, err := spec.Parse(strings.NewReader(text))
	if err == nil || !strings.Contains(err.Error(), field) {
		t.Errorf("error %v, want one containing %q", err, field)
	}
}

// fieldEdit changes from into to in a good spec; the spec must then fail
// with a *spec.FieldError for exactly field.
type fieldEdit struct{ from, to, field string }

// checkFieldEdits runs each edit of good as a subtest named by its field.
func checkFieldEdits(t *testing.T, good string, edits []fieldEdit) {
	t.Helper()
	for _, c := range edits {
		t.Run(c.field, func(t *testing.T) {
			_, err := spec.Parse(strings.NewReader(edited(t, good, c.from, c.to)))
			var fe *spec.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("%q → %q: error %v (%T), want a *spec.FieldError naming %s", c.from, c.to, err, err, c.field)
			}
		})
	}
}
