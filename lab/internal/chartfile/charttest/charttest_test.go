package charttest_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
)

func TestDecodeAndCount(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	red := color.RGBA{R: 255, A: 255}
	img.Set(1, 1, red)
	img.Set(2, 2, red)
	path := filepath.Join(t.TempDir(), "x.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := charttest.DecodePNG(t, path)
	if n := charttest.Colored(got, red); n != 2 {
		t.Errorf("%d red pixels, want 2", n)
	}
	if n := charttest.Colored(got, color.Black); n != 0 {
		t.Errorf("%d black pixels, want 0 (the rest is transparent)", n)
	}
}
