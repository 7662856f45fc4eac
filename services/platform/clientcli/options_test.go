package clientcli_test

import (
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

func TestOrDefault(t *testing.T) {
	for _, c := range []struct{ v, want time.Duration }{{0, time.Second}, {-1, time.Second}, {time.Millisecond, time.Millisecond}} {
		if got := clientcli.OrDefault(c.v, time.Second); got != c.want {
			t.Errorf("OrDefault(%v, 1s) = %v, want %v", c.v, got, c.want)
		}
	}
	if got := clientcli.OrDefault(0, 3); got != 3 {
		t.Errorf("OrDefault(0, 3) = %d", got)
	}
}

func TestCheckMessage(t *testing.T) {
	for _, c := range []struct {
		msg, want string
	}{
		{"", "message is empty"},
		{"hello", ""},
		{"hello!", "message is 6 bytes, more than the limit of 5"},
	} {
		got := ""
		if err := clientcli.CheckMessage([]byte(c.msg), 5); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckMessage(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
}
