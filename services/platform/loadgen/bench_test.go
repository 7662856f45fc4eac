package loadgen_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/loadgen"
)

// BenchmarkWallClockRate measures how close the wall clock keeps a
// timetable with no work to do: each iteration is a 200ms run at the rate,
// and the metrics are the rate reached as a share of the one asked for,
// and the starts that came over a millisecond late.
func BenchmarkWallClockRate(b *testing.B) {
	for _, rate := range []float64{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("rate=%g", rate), func(b *testing.B) {
			var kept, late float64
			runs := 0
			for b.Loop() {
				tt := loadgen.New(loadgen.Wall, loadgen.Plan{Rate: rate, Duration: 200 * time.Millisecond})
				done := make(chan struct{})
				for w := range 4 {
					go func() {
						defer func() { done <- struct{}{} }()
						for {
							s, ok := tt.Next(context.Background())
							if !ok {
								return
							}
							tt.Record(w, s, time.Now())
						}
					}()
				}
				for range 4 {
					<-done
				}
				sum := tt.Summary()
				kept += sum.AchievedRate() / rate
				late += float64(sum.Late) / float64(max(1, sum.Started))
				runs++
			}
			b.ReportMetric(kept/float64(runs), "rate_kept")
			b.ReportMetric(late/float64(runs), "late_share")
		})
	}
}
