// Package chartfile writes the lab's gonum/plot charts to files: a PNG or
// an SVG canvas, as the file's extension says, at one resolution for all
// of the lab's charts.
package chartfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the PNGs' resolution.
const DPI = 96

// Canvas is a chart being drawn for one file.
type Canvas interface {
	vg.CanvasSizer
	io.WriterTo
}

// New is a w×h canvas for path: SVG for a .svg file, else PNG.
func New(path string, w, h vg.Length) Canvas {
	if filepath.Ext(path) == ".svg" {
		return vgsvg.New(w, h)
	}
	return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}
}

// Draw is the whole of c to draw on.
func Draw(c Canvas) draw.Canvas { return draw.New(c) }

// Write writes what was drawn on c to path.
func Write(c Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	_, err = c.WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Save draws a w×h chart with drawChart into dir/name.png and
// dir/name.svg and returns the paths written; an error names the file.
func Save(dir, name string, w, h vg.Length, drawChart func(draw.Canvas)) ([]string, error) {
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		path := filepath.Join(dir, name+ext)
		c := New(path, w, h)
		drawChart(Draw(c))
		if err := Write(c, path); err != nil {
			return files, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, path)
	}
	return files, nil
}
