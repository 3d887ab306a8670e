package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/vm"
)

// outFilePerm is the mode of the files the vm commands write.
const outFilePerm = 0o644

// writeOutput writes an output file the way Cannon's tools name them: "" writes nothing, "-" writes to
// stdout, and any other path is written atomically (a temporary file in the same directory, renamed into
// place once complete), gzip-compressed when the name ends in ".gz". Missing parent directories are
// created.
func writeOutput(path string, write func(w io.Writer) error) (err error) {
	switch path {
	case "":
		return nil
	case "-":
		bw := bufio.NewWriter(os.Stdout)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	dir, base := filepath.Split(path)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	var w io.Writer = bw
	var gz *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		gz = gzip.NewWriter(bw)
		w = gz
	}
	if err = write(w); err != nil {
		return err
	}
	if gz != nil {
		if err = gz.Close(); err != nil {
			return err
		}
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(outFilePerm); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// isBinaryStatePath reports whether a state file name selects the binary format (.bin, .bin.gz), as
// opposed to JSON.
func isBinaryStatePath(path string) bool {
	return strings.HasSuffix(path, ".bin") || strings.HasSuffix(path, ".bin.gz")
}

// writeState writes a state file: Cannon's binary format for .bin and .bin.gz (and for "-"), otherwise
// the JSON form of vm.State.
func writeState(path string, s *vm.State) error {
	return writeOutput(path, func(w io.Writer) error {
		if path == "-" || isBinaryStatePath(path) {
			return s.Serialize(w)
		}
		return json.NewEncoder(w).Encode(s)
	})
}

// writeJSON writes v as Cannon's tools write JSON files: indented by two spaces, HTML characters not
// escaped, followed by an empty line.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write([]byte{'\n'})
	return err
}

// loadState reads a state file (binary or JSON, optionally gzipped) with an error that names it.
func loadState(path string) (*vm.State, error) {
	if path == "" {
		return nil, errors.New("no input state given (--input)")
	}
	s, err := vm.LoadStateFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to load state %q: %w", path, err)
	}
	if s.CurrentThread() == nil {
		return nil, fmt.Errorf("failed to load state %q: %w", path, vm.ErrEmptyThreadStack)
	}
	return s, nil
}

// maxLogLine bounds the text a lineLogger buffers before it logs it without a line end.
const maxLogLine = 64 << 10

// lineLogger turns a byte stream (a guest's or the host's stdout or stderr) into one log record per
// line. Text lines are logged as "text", anything else as hex "data". It remembers the last line, for
// error messages. It is safe for concurrent use.
type lineLogger struct {
	log  log.Logger
	msg  string
	mu   sync.Mutex
	buf  []byte
	last string
}

func newLineLogger(l log.Logger, msg string) *lineLogger {
	return &lineLogger{log: l, msg: msg}
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(w.buf[start:], '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[start : start+i])
		start += i + 1
	}
	w.buf = append(w.buf[:0], w.buf[start:]...)
	if len(w.buf) >= maxLogLine {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// Flush logs a final line that did not end in a line break.
func (w *lineLogger) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
}

// LastLine returns the last non-empty line logged.
func (w *lineLogger) LastLine() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *lineLogger) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if isText(line) {
		if s := strings.TrimSpace(string(line)); s != "" {
			w.last = s
		}
		w.log.Info(w.msg, "text", string(line))
	} else {
		w.log.Info(w.msg, "data", hexutil.Bytes(line))
	}
}

func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// truncateText shortens s to about n bytes for an error message, at a character boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
