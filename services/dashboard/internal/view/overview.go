package view

// Overview is the overview page: every service and replica.
type Overview struct {
	header
	Times    []int64      `json:"times,omitempty"` // snapshot: the sparklines' times, unix ms
	Services []ServiceRow `json:"services"`
	// Untracked counts replicas found but not polled (MAX_REPLICAS).
	Untracked int `json:"untracked,omitempty"`
}

// ServiceRow is one service on the overview.
type ServiceRow struct {
	Name     string       `json:"name"`
	Err      string       `json:"error,omitempty"` // its name did not resolve
	Since    int64        `json:"since,omitempty"` // unix ms, with Err
	Replicas []ReplicaRow `json:"replicas"`
}

// ReplicaRow is one replica on the overview.
type ReplicaRow struct {
	Replica
	Figures []Figure `json:"figures"`
}

// BuildOverview builds the overview; a snapshot has the sparklines'
// points. Its shape is the replicas and their figures.
func BuildOverview(in Input, snapshot bool) (Overview, string) {
	out := Overview{header: headerOf("overview", in, snapshot), Untracked: in.Round.Untracked}
	n := QuantileWindow
	if snapshot {
		n = SparkPoints
		out.Times = in.History.Times(n)
	}
	var parts []string
	for _, svc := range in.Round.Services {
		row := ServiceRow{Name: svc.Name, Err: svc.Err, Replicas: []ReplicaRow{}}
		if svc.Err != "" {
			row.Since = svc.Since.UnixMilli()
		}
		parts = append(parts, "s:"+svc.Name)
		for _, r := range svc.Replicas {
			rr := ReplicaRow{Replica: replicaOf(r, in.Round.Time)}
			rr.Figures = figures(newCalc(in.History, n, r.Key), r.Kind, snapshot)
			parts = append(parts, "r:"+r.Key)
			for _, f := range rr.Figures {
				parts = append(parts, "f:"+f.Key)
			}
			row.Replicas = append(row.Replicas, rr)
		}
		out.Services = append(out.Services, row)
	}
	return out, shape(parts)
}
