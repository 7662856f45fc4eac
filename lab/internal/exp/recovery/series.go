package recovery

import "math"

// The partition-heal client's rows in series.csv: its events under
// "workload:NAME" (the value is the moment on the series' clock, or the
// figure), each downloader's polls and outcome under
// "workload:NAME/LABEL". The report is drawn from them.
const (
	EventStart          = "start_s"
	EventPartitionBegin = "partition_begin_s"
	EventPartition      = "partition_s"
	EventHealBegin      = "heal_begin_s"
	EventHeal           = "heal_s"
	EventHealEnd        = "heal_end_s"
	EventBound          = "recovery_bound_s"
	EventBoundFailures  = "bound_failures"
	EventBoundBackoff   = "bound_backoff_s"
	EventBoundPiece     = "bound_piece_s"
	EventFileBytes      = "file_bytes"
	EventWhole          = "whole_sent_s"     // the seeds could have sent the file by then
	EventCompleteBound  = "complete_bound_s" // the least time to complete after the heal
	NodeBytes           = "bytes_done"
	NodeAcross          = "across_bytes" // from nodes across the cut
	NodeCut             = "cut"          // 1: cut off from the sources
	NodeComplete        = "complete_s"
	NodeVerified        = "verified" // 1: the file read back matches
)

// The client's figures, one per repetition.
const (
	MetricRecovery     = "recovery_s"                    // worst Resume of the cut nodes
	MetricAcrossDuring = "across_during_partition_bytes" // their AcrossDuring, summed
	MetricComplete     = "complete_after_heal_s"         // their worst Complete
	MetricRulesLeft    = "partition_rules_left"          // read back after the heal
)

// BoundLabel names the bound in a legend and a table.
const BoundLabel = "recovery ≤ DIAL_TIMEOUT + backoff + REFRESH_INTERVAL + pick-up + first piece + poll"

// Grace is how long after the partition bytes already on their way may
// still land: one poll interval, at least a second.
func Grace(interval float64) float64 { return math.Max(interval, 1) }
