package vbox

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// transferChunk is how much of a volume one stream packet carries.
const transferChunk = 256 * 1024

// StorageVolUpload implements driver.Conn: the client's bytes are written
// into the volume's file from offset (at most length bytes; 0: all it
// sends). A volume a machine uses is refused.
func (c *conn) StorageVolUpload(ctx context.Context, vol driver.StorageVol, st driver.VolStream, offset, length uint64, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virStorageVolUpload")
	}
	v, err := c.d.vol(ctx, vol)
	if err != nil {
		return err
	}
	if err := c.d.checkUnused(ctx, v, "upload to"); err != nil {
		return err
	}
	f, err := os.OpenFile(v.path, os.O_WRONLY, 0)
	if err != nil {
		return errdefs.Newf(errdefs.ErrSystem, "cannot open volume '%s': %s", v.path, errText(err))
	}
	if _, err := f.Seek(int64(offset), io.SeekStart); err != nil {
		f.Close()
		return errdefs.Newf(errdefs.ErrSystem, "cannot seek in volume '%s': %s", v.path, errText(err))
	}
	go func() {
		ctx := context.WithoutCancel(ctx)
		err := receive(ctx, st, f, length)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = errdefs.Newf(errdefs.ErrSystem, "cannot write volume '%s': %s", v.path, errText(cerr))
		}
		c.d.stor.media.invalidate()
		c.d.rescanPath(v.path)
		if err != nil {
			st.Abort(err)
			return
		}
		st.Finish(ctx)
	}()
	return nil
}

func receive(ctx context.Context, st driver.VolStream, f *os.File, length uint64) error {
	var n uint64
	for {
		b, err := st.Recv(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if length > 0 && n+uint64(len(b)) > length {
			return errdefs.Newf(errdefs.ErrInvalidArg, "the stream carries more than the %d bytes announced", length)
		}
		if _, err := f.Write(b); err != nil {
			return errdefs.Newf(errdefs.ErrSystem, "cannot write volume '%s': %s", f.Name(), errText(err))
		}
		n += uint64(len(b))
	}
}

// StorageVolDownload implements driver.Conn: the volume's file from offset
// (at most length bytes; 0: to its end) goes to the client.
func (c *conn) StorageVolDownload(ctx context.Context, vol driver.StorageVol, st driver.VolStream, offset, length uint64, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virStorageVolDownload")
	}
	v, err := c.d.vol(ctx, vol)
	if err != nil {
		return err
	}
	f, err := os.Open(v.path)
	if err != nil {
		return errdefs.Newf(errdefs.ErrSystem, "cannot open volume '%s': %s", v.path, errText(err))
	}
	if _, err := f.Seek(int64(offset), io.SeekStart); err != nil {
		f.Close()
		return errdefs.Newf(errdefs.ErrSystem, "cannot seek in volume '%s': %s", v.path, errText(err))
	}
	go func() {
		defer f.Close()
		ctx := context.WithoutCancel(ctx)
		var r io.Reader = f
		if length > 0 {
			r = io.LimitReader(f, int64(length))
		}
		buf := make([]byte, transferChunk)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if serr := st.Send(ctx, buf[:n]); serr != nil {
					st.Abort(serr)
					return
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				st.Abort(errdefs.Newf(errdefs.ErrSystem, "cannot read volume '%s': %s", v.path, errText(err)))
				return
			}
		}
		// Finish sends libvirt's end of data (an empty packet), waits for
		// the client's finish and acknowledges it.
		if err := st.Finish(ctx); err != nil {
			st.Abort(err)
		}
	}()
	return nil
}
