package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// WriteChart draws one horizontal bar per row: its throughput relative to
// the workload's reference (1.0 is the reference), netlab's bars in blue,
// the rest in grey, a line at 1.0.
func WriteChart(path string, r Result) error {
	const (
		rowH   = 18
		labelW = 230
		barW   = 480
		margin = 12
	)
	maxRatio := 1.0
	for _, row := range r.Rows {
		maxRatio = max(maxRatio, row.Ratio)
	}
	h := margin*2 + rowH*(len(r.Rows)+1)
	img := image.NewRGBA(image.Rect(0, 0, labelW+barW+90, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(x, y int, s string) {
		d := font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	text(margin, margin+11, "throughput / reference, same rep (median)")
	blue := &image.Uniform{color.RGBA{0x2b, 0x6c, 0xb0, 0xff}}
	grey := &image.Uniform{color.RGBA{0xa0, 0xa0, 0xa0, 0xff}}
	scale := float64(barW) / maxRatio
	for i, row := range r.Rows {
		y := margin + rowH*(i+1)
		text(margin, y+12, fmt.Sprintf("%s %s", row.Workload, row.Target))
		fill := grey
		if row.Target == "netlab" {
			fill = blue
		}
		w := int(row.Ratio * scale)
		draw.Draw(img, image.Rect(labelW, y+3, labelW+w, y+rowH-3), fill, image.Point{}, draw.Src)
		// basicfont is ASCII only: "x", not "×".
		text(labelW+w+4, y+12, fmt.Sprintf("%.2fx", row.Ratio))
	}
	one := labelW + int(scale)
	draw.Draw(img, image.Rect(one, margin+rowH, one+1, h-margin), image.Black, image.Point{}, draw.Src)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
