package peerctl

// Exported for the tests of package peerctl_test.
var (
	HumanBytes   = humanBytes
	ProgressLine = progressLine
)

// Download is the API's download record, as progressLine takes it.
type Download = download

// Source is one peer's share of a download, as the API reports it.
type Source = source
