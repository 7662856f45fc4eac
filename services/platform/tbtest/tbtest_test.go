package tbtest_test

import (
	"slices"
	"testing"

	"github.com/netlab/netlab/services/platform/tbtest"
)

func TestRecorder_KeepsFailuresAndEndsOnFatal(t *testing.T) {
	r := tbtest.New(t)
	if r.Failed() {
		t.Fatal("a new Recorder has failed")
	}
	after := false
	r.Run(func() {
		r.Errorf("one %d", 1)
		r.Error("two")
		r.Fatalf("three %s", "3")
		after = true
	})
	r.Run(func() {
		r.Fatal("four")
		after = true
	})
	if after {
		t.Error("the goroutine went on after Fatal")
	}
	if want := []string{"one 1", "two", "three 3", "four"}; !r.Failed() || !slices.Equal(r.Messages(), want) {
		t.Errorf("messages %q, want %q", r.Messages(), want)
	}
}

func TestRecorder_RunsCleanupsLastFirst(t *testing.T) {
	r := tbtest.New(t)
	var order []int
	r.Cleanup(func() { order = append(order, 1) })
	r.Cleanup(func() { order = append(order, 2) })
	if len(order) != 0 {
		t.Fatal("a cleanup ran before RunCleanups")
	}
	r.RunCleanups()
	r.RunCleanups()
	if !slices.Equal(order, []int{2, 1}) {
		t.Errorf("cleanups ran in the order %v, want [2 1], once", order)
	}
}

func TestReport(t *testing.T) {
	if msgs := tbtest.Report(t, func(testing.TB) {}); len(msgs) != 0 {
		t.Errorf("a check that reports nothing: %q", msgs)
	}
	msgs := tbtest.Report(t, func(tb testing.TB) {
		tb.Errorf("bad %d", 1)
		tb.Fatal("worse")
		tb.Error("never")
	})
	if want := []string{"bad 1", "worse"}; !slices.Equal(msgs, want) {
		t.Errorf("Report = %q, want %q", msgs, want)
	}
}
