package shaper

import "flag"

// ImpairmentFlags declares on fs the flags of every impairment a Spec
// holds, filling s: the one spelling of them that netlab shape and
// netlab-shaper share. Flags that say where the shape goes (device,
// direction, peer) are each command's own.
func ImpairmentFlags(fs *flag.FlagSet, s *Spec) {
	fs.DurationVar(&s.Delay, "delay", 0, "added delay, up to "+MaxDelay.String())
	fs.DurationVar(&s.Jitter, "jitter", 0, "the delay varies uniformly by ± this (at most the delay)")
	percentFlag(fs, "loss", &s.Loss, "independent loss, like 2%")
	fs.Func("loss-ge", "bursty loss, Gilbert–Elliott: P%,R%[,1-H%[,1-K%]] (netem's terms)", func(v string) (err error) {
		s.LossGE, err = ParseGE(v)
		return err
	})
	fs.Func("rate", "rate cap, like 20mbit, 500kbit, 1gbit, 2mbps", func(v string) (err error) {
		s.Rate, err = ParseRate(v)
		return err
	})
	fs.Func("burst", "rate: token bucket size, like 32kb (default 10 ms at the rate)", func(v string) (err error) {
		s.Burst, err = ParseSize(v)
		return err
	})
	fs.Func("queue", "rate: bytes that may wait, like 256kb (default 100 ms at the rate)", func(v string) (err error) {
		s.Queue, err = ParseSize(v)
		return err
	})
	percentFlag(fs, "duplicate", &s.Duplicate, "duplicated packets, like 1% (needs netem)")
	percentFlag(fs, "reorder", &s.Reorder, "packets sent at once, ahead of delayed ones (needs --delay)")
	percentFlag(fs, "corrupt", &s.Corrupt, "packets with one bit flipped, like 0.1%")
}

func percentFlag(fs *flag.FlagSet, name string, p *float64, usage string) {
	fs.Func(name, usage, func(v string) (err error) {
		*p, err = ParsePercent(v)
		return err
	})
}
