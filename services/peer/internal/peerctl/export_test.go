package peerctl

// Exported for the tests of package peerctl_test.
var (
	HumanBytes   = humanBytes
	ProgressLine = progressLine
)
