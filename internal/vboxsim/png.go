package vboxsim

import (
	"bytes"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
)

// Every running VM's display is in the one video mode showvminfo reports
// (VideoMode="1024,768,32"@0,0 1): screenshotpng writes the picture at that
// resolution, as VBoxManage takes it at the display's current one.
const screenWidth, screenHeight = 1024, 768

// screenshotPNG renders display's picture of the VM: a pattern seeded by the
// VM's name and the display, encoded as PNG (RGBA, as VirtualBox's PNG
// writer gives).
func screenshotPNG(name string, display int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, screenWidth, screenHeight))
	seed := crc32.ChecksumIEEE([]byte(name)) + uint32(display)*0x9e3779b9
	for y := 0; y < screenHeight; y++ {
		for x := 0; x < screenWidth; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(seed) ^ uint8(x/4), uint8(seed>>8) ^ uint8(y/3), uint8(seed>>16) ^ uint8((x+y)/16), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
