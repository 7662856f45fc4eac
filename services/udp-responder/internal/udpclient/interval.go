package udpclient

import (
	"io"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// bitInterval is the shared interval report with the bit rate of the
// replies' payload added, as iperf3 gives it: at the end of the text line,
// as bits_per_second in JSON.
type bitInterval struct{ clientcli.Interval }

func (iv bitInterval) bitsPerSecond() float64 {
	if s := (iv.End - iv.Start).Seconds(); s > 0 {
		return 8 * float64(iv.Bytes) / s
	}
	return 0
}

func (iv bitInterval) WriteText(w io.Writer) error {
	var b strings.Builder
	if err := iv.Interval.WriteText(&b); err != nil {
		return err
	}
	_, err := io.WriteString(w, strings.TrimSuffix(b.String(), "\n")+" "+formatBits(iv.bitsPerSecond())+"\n")
	return err
}

func (iv bitInterval) WriteJSON(w io.Writer) error {
	return clientcli.WriteJSON(w, struct {
		clientcli.IntervalJSON
		BitsPerSecond float64 `json:"bits_per_second"`
	}{iv.JSON(), iv.bitsPerSecond()})
}

// bitIntervals prints each interval on w with its bit rate.
func bitIntervals(w io.Writer, asJSON bool) func(clientcli.Interval) {
	return func(iv clientcli.Interval) { _ = clientcli.Print(w, asJSON, bitInterval{iv}) }
}
