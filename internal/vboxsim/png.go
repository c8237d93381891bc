package vboxsim

import (
	"bytes"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
)

// screenshotPNG renders a small valid PNG (a 64x48 pattern seeded by the name).
func screenshotPNG(name string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	seed := crc32.ChecksumIEEE([]byte(name))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(seed) ^ uint8(x*4), uint8(seed>>8) ^ uint8(y*5), uint8(seed >> 16), 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
