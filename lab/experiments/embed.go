// Package experiments holds netlab's built-in experiment specs, each a
// YAML file here that a user can copy and edit, embedded in the netlab
// command so `netlab exp run NAME` needs no checkout.
package experiments

import "embed"

// FS holds every built-in spec, NAME.yaml.
//
//go:embed *.yaml
var FS embed.FS
