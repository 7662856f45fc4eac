package compare

import "testing"

func TestShorten_CutsLongLabelsOnly(t *testing.T) {
	for in, want := range map[string]string{
		"main":                  "main",
		"ünïcode-is-counted-ok": "ünïcode-is-counted-ok",
		"http-client --duration 3s --connections 8 --quiet --save - http://x/": "http-client --duration 3s --con…",
	} {
		if got := shorten(in, maxLabelWidth); got != want {
			t.Errorf("shorten(%q) = %q, want %q", in, got, want)
		}
	}
}
