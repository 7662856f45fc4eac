// Package charttest reads back the charts the lab draws, for tests: the
// PNG decoded, and how many of its pixels are one colour (a line or a
// marker drawn in it is there).
package charttest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"testing"
)

// DecodePNG reads and decodes the PNG at path, failing t if it cannot.
func DecodePNG(t testing.TB, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Colored counts the pixels of img that are exactly c: the middle of a
// line or marker drawn in c.
func Colored(img image.Image, c color.Color) int {
	want := color.RGBAModel.Convert(c)
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == want {
				n++
			}
		}
	}
	return n
}
