package shaper

import "flag"

// ImpairmentFlags declares on fs the flags of every impairment a Spec
// holds, filling s: the one spelling of them that netlab shape and
// netlab-shaper share. Flags that say where the shape goes (device,
// direction, peer) are each command's own.
func ImpairmentFlags(fs *flag.FlagSet, s *Spec) {
	fs.DurationVar(&s.Delay, "delay", 0, "added delay, up to "+MaxDelay.String())
	fs.DurationVar(&s.Jitter, "jitter", 0, "the delay varies uniformly by ± this (at most the delay)")
	parsedFlag(fs, "loss", "independent loss, like 2%", &s.Loss, ParsePercent)
	parsedFlag(fs, "loss-ge", "bursty loss, Gilbert–Elliott: P%,R%[,1-H%[,1-K%]] (netem's terms)", &s.LossGE, ParseGE)
	parsedFlag(fs, "rate", "rate cap, like 20mbit, 500kbit, 1gbit, 2mbps", &s.Rate, ParseRate)
	parsedFlag(fs, "burst", "rate: token bucket size, like 32kb (default 10 ms at the rate)", &s.Burst, ParseSize)
	parsedFlag(fs, "queue", "rate: bytes that may wait, like 256kb (default 100 ms at the rate)", &s.Queue, ParseSize)
	parsedFlag(fs, "duplicate", "duplicated packets, like 1% (needs netem)", &s.Duplicate, ParsePercent)
	parsedFlag(fs, "reorder", "packets sent at once, ahead of delayed ones (needs --delay)", &s.Reorder, ParsePercent)
	parsedFlag(fs, "corrupt", "packets with one bit flipped, like 0.1%", &s.Corrupt, ParsePercent)
}

// parsedFlag declares a flag whose value parse reads into p.
func parsedFlag[T any](fs *flag.FlagSet, name, usage string, p *T, parse func(string) (T, error)) {
	fs.Func(name, usage, func(v string) (err error) {
		*p, err = parse(v)
		return err
	})
}
