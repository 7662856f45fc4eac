package client_test

import (
	"strconv"
	"testing"

	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

func unrepr(t *testing.T, s string) []byte {
	t.Helper()
	if len(s) < 3 || s[0] != 'b' || (s[1] != '\'' && s[1] != '"') || s[len(s)-1] != s[1] {
		t.Fatalf("not a bytes literal: %s", s)
	}
	q, body := s[1], s[2:len(s)-1]
	var out []byte
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == q {
			t.Fatalf("unescaped quote in %s", s)
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(body) {
			t.Fatalf("trailing backslash in %s", s)
		}
		switch body[i] {
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case '\\', '\'', '"':
			out = append(out, body[i])
		case 'x':
			n, err := strconv.ParseUint(body[i+1:min(i+3, len(body))], 16, 8)
			if err != nil || i+3 > len(body) {
				t.Fatalf("bad \\x escape in %s", s)
			}
			out = append(out, byte(n))
			i += 2
		default:
			t.Fatalf("unknown escape \\%c in %s", body[i], s)
		}
	}
	return out
}

// FuzzPyRepr: the rendering is printable ASCII, and reading it back as a
// Python bytes literal gives the input.
func FuzzPyRepr(f *testing.F) {
	for _, s := range []string{"Hello, world", "it's", `say "hi"`, `both ' and "`, "\x00\n\\", "\t\r\x7f\x80\xff", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := client.PyRepr(b)
		for i := range len(r) {
			if r[i] < 0x20 || r[i] >= 0x7f {
				t.Fatalf("PyRepr(%q) = %q: not printable ASCII", b, r)
			}
		}
		if got := unrepr(t, r); string(got) != string(b) {
			t.Fatalf("PyRepr(%q) = %s reads back as %q", b, r, got)
		}
	})
}
