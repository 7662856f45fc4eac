package runner

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/netlab/netlab/lab/internal/exp/result"
)

// CheckpointSchema names partial.json's format.
const CheckpointSchema = "netlab-exp-partial/1"

// MaxCheckpointSize bounds a partial.json a reader accepts.
const MaxCheckpointSize = 16 << 20

// Checkpoint is what a run has done so far: the steps finished, with
// their figures, and the mechanisms that carried the impairments. A run
// given one skips those steps and starts from their figures, so an
// interrupted sweep resumes where it stopped.
type Checkpoint struct {
	Schema     string   `json:"schema"`
	Seed       int64    `json:"seed"`
	Quick      bool     `json:"quick"`
	Done       []Done   `json:"done"`
	Mechanisms []string `json:"mechanisms"`
}

// Done is one finished step: a point of one repetition and its figures.
type Done struct {
	Point   int          `json:"point"`
	Rep     int          `json:"repetition"`
	Figures []DoneFigure `json:"figures"`
}

// DoneFigure is a workload's figure of a finished step.
type DoneFigure struct {
	Workload string        `json:"workload"`
	Client   string        `json:"client"`
	Figure   result.Figure `json:"figure"`
}

func (c *Checkpoint) has(st step) bool {
	for _, d := range c.Done {
		if d.Point == st.point && d.Rep == st.rep {
			return true
		}
	}
	return false
}

// WriteJSON writes c indented.
func (c *Checkpoint) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// ReadCheckpoint reads a partial.json.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	var c Checkpoint
	if err := result.ReadJSONFile(path, MaxCheckpointSize, &c); err != nil {
		return nil, err
	}
	if c.Schema != CheckpointSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, c.Schema, CheckpointSchema)
	}
	return &c, nil
}

// check refuses a checkpoint that does not fit npoints points of reps
// repetitions.
func (c *Checkpoint) check(npoints, reps int) error {
	for _, d := range c.Done {
		if d.Point < 0 || d.Point >= npoints || d.Rep < 0 || d.Rep >= reps {
			return fmt.Errorf("checkpoint: step (point %d, repetition %d) is not one of this spec's %d points × %d repetitions", d.Point, d.Rep, npoints, reps)
		}
	}
	return nil
}
