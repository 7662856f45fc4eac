package history_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/history"
	"github.com/netlab/netlab/services/dashboard/internal/scrape"
)

var t0 = time.Unix(1_800_000_000, 0)

// scrapeOf parses a /metrics text.
func scrapeOf(t *testing.T, text string) history.Scrape {
	t.Helper()
	res, err := scrape.Parse(strings.NewReader(text), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return history.Scrape{Result: &res}
}

func counter(v float64, start float64) string {
	return fmt.Sprintf("# TYPE c_total counter\nc_total %g\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %g\n# TYPE g gauge\ng %g\n", v, start, v)
}

func values(t *testing.T, s *history.Store, replica, name string) []float64 {
	t.Helper()
	var out []float64
	s.Read(func(r history.Reader) {
		ser := r.Get(replica, name, "")
		if ser == nil {
			t.Fatalf("no series %s of %s", name, replica)
		}
		for _, v := range r.Values(ser, r.Len(), nil) {
			out = append(out, float64(v))
		}
	})
	return out
}

func same(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(math.IsNaN(a[i]) && math.IsNaN(b[i])) && math.Abs(a[i]-b[i]) > 1e-6 {
			return false
		}
	}
	return true
}

func TestStore_CountersBecomeRatesAcrossResets(t *testing.T) {
	s, err := history.New(history.Limits{Points: 10, MaxSeries: 100})
	if err != nil {
		t.Fatal(err)
	}
	// 0, 10, 30 a second apart; then the process restarts (new start
	// time) and shows 40, more than before: all of it is new; then a
	// plain reset to 5.
	seq := []struct {
		v, start float64
	}{{0, 1}, {10, 1}, {30, 1}, {40, 2}, {45, 2}, {5, 2}}
	for i, p := range seq {
		s.Append(t0.Add(time.Duration(i)*time.Second), map[string]history.Scrape{"a": scrapeOf(t, counter(p.v, p.start))})
	}
	nan := math.NaN()
	if got, want := values(t, s, "a", "c_total"), []float64{nan, 10, 20, 40, 5, 5}; !same(got, want) {
		t.Errorf("rates %v, want %v", got, want)
	}
	if got, want := values(t, s, "a", "g"), []float64{0, 10, 30, 40, 45, 5}; !same(got, want) {
		t.Errorf("gauge %v, want %v", got, want)
	}
}

func TestStore_MissedRoundIsNaNAndTheNextRateSpansIt(t *testing.T) {
	s, _ := history.New(history.Limits{Points: 10, MaxSeries: 100})
	s.Append(t0, map[string]history.Scrape{"a": scrapeOf(t, counter(0, 1))})
	s.Append(t0.Add(time.Second), map[string]history.Scrape{"a": {}}) // down
	s.Append(t0.Add(2*time.Second), map[string]history.Scrape{"a": scrapeOf(t, counter(40, 1))})
	nan := math.NaN()
	if got, want := values(t, s, "a", "c_total"), []float64{nan, nan, 20}; !same(got, want) {
		t.Errorf("rates %v, want %v", got, want)
	}
}

func TestStore_RingKeepsTheNewestPointsInOrder(t *testing.T) {
	s, _ := history.New(history.Limits{Points: 4, MaxSeries: 100})
	for i := range 7 {
		s.Append(t0.Add(time.Duration(i)*time.Second), map[string]history.Scrape{"a": scrapeOf(t, counter(float64(i), 1))})
	}
	if got, want := values(t, s, "a", "g"), []float64{3, 4, 5, 6}; !same(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	s.Read(func(r history.Reader) {
		times := r.Times(10)
		if len(times) != 4 || times[0] != t0.Add(3*time.Second).UnixMilli() || times[3] != t0.Add(6*time.Second).UnixMilli() {
			t.Errorf("times %v, want the last 4 rounds oldest first", times)
		}
	})
}

func TestStore_MaxSeriesRefusesAndCounts(t *testing.T) {
	s, _ := history.New(history.Limits{Points: 4, MaxSeries: 3})
	text := "# TYPE x gauge\nx{i=\"1\"} 1\nx{i=\"2\"} 2\nx{i=\"3\"} 3\nx{i=\"4\"} 4\nx{i=\"5\"} 5\n"
	s.Append(t0, map[string]history.Scrape{"a": scrapeOf(t, text)})
	s.Append(t0.Add(time.Second), map[string]history.Scrape{"a": scrapeOf(t, text)})
	st := s.Stats()
	if st.Series != 3 || st.Dropped != 4 {
		t.Errorf("stats %+v, want 3 series held and 2 refused in each of 2 rounds", st)
	}
}

func TestStore_ForgetsSeriesAbsentForAWindow(t *testing.T) {
	s, _ := history.New(history.Limits{Points: 3, MaxSeries: 100})
	s.Append(t0, map[string]history.Scrape{"a": scrapeOf(t, "# TYPE x gauge\nx 1\n"), "b": scrapeOf(t, "# TYPE y gauge\ny 1\n")})
	for i := 1; i <= 3; i++ {
		s.Append(t0.Add(time.Duration(i)*time.Second), map[string]history.Scrape{"a": scrapeOf(t, "# TYPE x gauge\nx 1\n")})
	}
	if st := s.Stats(); st.Series != 1 {
		t.Errorf("%d series held, want 1: b's went unread for a whole window", st.Series)
	}
	s.Read(func(r history.Reader) {
		if r.Families("b") != nil {
			t.Error("replica b is still held with no series")
		}
	})
}

func TestNew_RefusesNoRoom(t *testing.T) {
	if _, err := history.New(history.Limits{Points: 1, MaxSeries: 10}); err == nil {
		t.Error("New with 1 point: no error")
	}
}
