package clientcli

import (
	"errors"
	"fmt"
	"time"
)

// OrDefault is an option of a client's run as the run uses it: v when it
// is above zero, else def (a zero or negative option means the default).
func OrDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// CheckMessage checks a message a client is about to send: 1 to max bytes.
func CheckMessage(msg []byte, max int) error {
	switch {
	case len(msg) == 0:
		return errors.New("message is empty")
	case len(msg) > max:
		return fmt.Errorf("message is %d bytes, more than the limit of %d", len(msg), max)
	}
	return nil
}
