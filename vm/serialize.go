package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Serialize writes the state in Cannon's binary state format: the version
// byte, then the memory (page count, then index and contents of each page in
// ascending index order), the scalar fields, both thread stacks and the
// buffered hint; numbers are big-endian.
func (s *State) Serialize(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var b []byte
	b = append(b, byte(s.version()))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Memory.PageCount()))
	if _, err := bw.Write(b); err != nil {
		return err
	}
	var hdr [8]byte
	err := s.Memory.forEachPage(func(idx uint64, data *[PageSize]byte) error {
		binary.BigEndian.PutUint64(hdr[:], idx)
		bw.Write(hdr[:])
		_, err := bw.Write(data[:])
		return err
	})
	if err != nil {
		return err
	}
	b = b[:0]
	b = append(b, s.PreimageKey[:]...)
	b = binary.BigEndian.AppendUint64(b, s.PreimageOffset)
	b = binary.BigEndian.AppendUint64(b, s.Heap)
	b = append(b, s.LLReservationStatus)
	b = binary.BigEndian.AppendUint64(b, s.LLAddress)
	b = binary.BigEndian.AppendUint64(b, s.LLOwnerThread)
	b = append(b, s.ExitCode, boolByte(s.Exited))
	b = binary.BigEndian.AppendUint64(b, s.Step)
	b = binary.BigEndian.AppendUint64(b, s.StepsSinceLastContextSwitch)
	b = append(b, boolByte(s.TraverseRight))
	b = binary.BigEndian.AppendUint64(b, s.NextThreadID)
	for _, stack := range [][]*Thread{s.LeftThreadStack, s.RightThreadStack} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(stack)))
		for _, t := range stack {
			b = t.AppendEncoding(b)
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.LastHint)))
	b = append(b, s.LastHint...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// ErrTruncatedState is returned when a state ends before its last field.
var ErrTruncatedState = errors.New("state is truncated")

// binReader reads the fields of the binary state format. The first error
// sticks; it names the field that could not be read.
type binReader struct {
	r   io.Reader
	buf [8]byte
	err error
}

func (br *binReader) read(what string, p []byte) {
	if br.err != nil {
		return
	}
	if _, err := io.ReadFull(br.r, p); err != nil {
		br.fail(what, err)
	}
}

func (br *binReader) fail(what string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		br.err = fmt.Errorf("%w: input ends in the %s", ErrTruncatedState, what)
	} else {
		br.err = fmt.Errorf("reading the %s: %w", what, err)
	}
}

func (br *binReader) u8(what string) uint8 {
	br.read(what, br.buf[:1])
	return br.buf[0]
}

func (br *binReader) u32(what string) uint32 {
	br.read(what, br.buf[:4])
	return binary.BigEndian.Uint32(br.buf[:4])
}

func (br *binReader) u64(what string) uint64 {
	br.read(what, br.buf[:8])
	return binary.BigEndian.Uint64(br.buf[:8])
}

func (br *binReader) boolean(what string) bool {
	v := br.u8(what)
	if v > 1 && br.err == nil {
		br.err = fmt.Errorf("invalid boolean value %d for %s", v, what)
	}
	return v == 1
}

// threads reads a thread stack. The count in the input only bounds the loop:
// the stack grows with the threads actually read, so a count that the input
// cannot back costs nothing.
func (br *binReader) threads(side string) []*Thread {
	n := br.u64(side + " thread stack size")
	out := []*Thread{}
	var enc [ThreadEncodingSize]byte
	for i := uint64(0); i < n && br.err == nil; i++ {
		br.read(fmt.Sprintf("thread %d of %d of the %s thread stack", i, n, side), enc[:])
		if br.err != nil {
			break
		}
		t, err := decodeThread(enc[:])
		if err != nil {
			br.err = err
			break
		}
		out = append(out, t)
	}
	return out
}

// bytes reads n bytes, growing the buffer with the data actually read rather
// than allocating n bytes up front.
func (br *binReader) bytes(what string, n uint64) []byte {
	if br.err != nil {
		return nil
	}
	var buf bytes.Buffer
	got, err := io.CopyN(&buf, br.r, int64(n))
	if err != nil {
		br.fail(fmt.Sprintf("%s (%d of %d bytes)", what, got, n), err)
		return nil
	}
	return buf.Bytes()
}

// DeserializeState reads a state in the binary format written by Serialize.
// Counts in the input are never trusted for allocations: memory grows only
// with the data read, all-zero pages (as a program's bss) take no page
// memory, and a state that ends early is an ErrTruncatedState naming the
// field.
func DeserializeState(r io.Reader) (*State, error) {
	br := &binReader{r: bufio.NewReaderSize(r, 1<<16)}
	v := Version(br.u8("version byte"))
	if br.err == nil && !v.Supported() {
		return nil, fmt.Errorf("%w %d (supported: %s)", ErrUnsupportedVersion, v, supportedList())
	}
	s := &State{Memory: NewMemory(), Version: v}
	pages := br.u64("page count")
	var data [PageSize]byte
	var top uint64 // highest page index read so far
	for i := uint64(0); i < pages && br.err == nil; i++ {
		// Read directly: naming the field costs a Sprintf, so only on failure.
		if _, err := io.ReadFull(br.r, br.buf[:]); err != nil {
			br.fail(fmt.Sprintf("index of page %d of %d", i, pages), err)
			break
		}
		idx := binary.BigEndian.Uint64(br.buf[:])
		if _, err := io.ReadFull(br.r, data[:]); err != nil {
			br.fail(fmt.Sprintf("page %d of %d (index %#x)", i, pages, idx), err)
			break
		}
		if err := s.Memory.setPage(idx, data[:], i == 0 || idx > top); err != nil {
			br.err = fmt.Errorf("page %d of %d: %w", i, pages, err)
		}
		top = max(top, idx)
	}
	br.read("preimage key", s.PreimageKey[:])
	s.PreimageOffset = br.u64("preimage offset")
	s.Heap = br.u64("heap")
	s.LLReservationStatus = br.u8("LL reservation status")
	s.LLAddress = br.u64("LL address")
	s.LLOwnerThread = br.u64("LL owner thread")
	s.ExitCode = br.u8("exit code")
	s.Exited = br.boolean("exited flag")
	s.Step = br.u64("step")
	s.StepsSinceLastContextSwitch = br.u64("steps since the last context switch")
	s.TraverseRight = br.boolean("traverse-right flag")
	s.NextThreadID = br.u64("next thread ID")
	s.LeftThreadStack = br.threads("left")
	s.RightThreadStack = br.threads("right")
	if n := br.u32("last hint length"); br.err == nil && n > 0 {
		s.LastHint = br.bytes("last hint", uint64(n))
	}
	if br.err != nil {
		return nil, fmt.Errorf("decoding state: %w", br.err)
	}
	return s, nil
}

// jsonPage is the JSON form of a memory page.
type jsonPage struct {
	Index uint64          `json:"index"`
	Data  *[PageSize]byte `json:"data"`
}

// jsonState mirrors the JSON encoding of Cannon's multithreaded state.
type jsonState struct {
	Memory                      []jsonPage
	PreimageKey                 common.Hash
	PreimageOffset              uint64
	Heap                        uint64
	LLReservationStatus         uint8
	LLAddress                   uint64
	LLOwnerThread               uint64
	ExitCode                    uint8
	Exited                      bool
	Step                        uint64
	StepsSinceLastContextSwitch uint64
	TraverseRight               bool
	LeftThreadStack             []*Thread
	RightThreadStack            []*Thread
	NextThreadId                uint64
	LastHint                    hexutil.Bytes
	UseLargeICache              bool
	// StateVersion is ours: Cannon's JSON states carry no version. It is written only for versions
	// before LatestVersion, so that a JSON snapshot of an older state runs by its rules.
	StateVersion Version `json:",omitempty"`
}

// MarshalJSON encodes the state in the JSON form Cannon's Go state type
// has (pages as arrays of byte values).
func (s *State) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := s.writeJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonMemoryPrefix is how the JSON encoding of jsonState starts when its
// Memory is nil; writeJSON puts the pages in place of the null.
const jsonMemoryPrefix = `{"Memory":null`

// writeJSON writes what MarshalJSON returns, one page at a time, so that a
// large memory is never held as JSON text as a whole.
func (s *State) writeJSON(w io.Writer) error {
	js := jsonState{
		PreimageKey:                 s.PreimageKey,
		PreimageOffset:              s.PreimageOffset,
		Heap:                        s.Heap,
		LLReservationStatus:         s.LLReservationStatus,
		LLAddress:                   s.LLAddress,
		LLOwnerThread:               s.LLOwnerThread,
		ExitCode:                    s.ExitCode,
		Exited:                      s.Exited,
		Step:                        s.Step,
		StepsSinceLastContextSwitch: s.StepsSinceLastContextSwitch,
		TraverseRight:               s.TraverseRight,
		LeftThreadStack:             s.LeftThreadStack,
		RightThreadStack:            s.RightThreadStack,
		NextThreadId:                s.NextThreadID,
		LastHint:                    s.LastHint,
	}
	if v := s.version(); v != LatestVersion {
		js.StateVersion = v
	}
	rest, err := json.Marshal(&js)
	if err != nil {
		return err
	}
	rest, ok := bytes.CutPrefix(rest, []byte(jsonMemoryPrefix))
	if !ok {
		return fmt.Errorf("unexpected JSON encoding of the state: %.40s", rest)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`{"Memory":[`)
	first := true
	err = s.Memory.forEachPage(func(idx uint64, data *[PageSize]byte) error {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		b, err := json.Marshal(jsonPage{Index: idx, Data: data})
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteByte(']')
	if _, err := bw.Write(rest); err != nil {
		return err
	}
	return bw.Flush()
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (s *State) UnmarshalJSON(b []byte) error {
	var js jsonState
	if err := json.Unmarshal(b, &js); err != nil {
		return err
	}
	if js.StateVersion == 0 {
		js.StateVersion = LatestVersion
	} else if !js.StateVersion.Supported() {
		return fmt.Errorf("%w %d (supported: %s)", ErrUnsupportedVersion, uint8(js.StateVersion), supportedList())
	}
	mem := NewMemory()
	var top uint64
	for i, p := range js.Memory {
		if p.Data == nil {
			return fmt.Errorf("page %#x has no data", p.Index)
		}
		if err := mem.setPage(p.Index, p.Data[:], i == 0 || p.Index > top); err != nil {
			return err
		}
		top = max(top, p.Index)
	}
	*s = State{
		Version:                     js.StateVersion,
		Memory:                      mem,
		PreimageKey:                 js.PreimageKey,
		PreimageOffset:              js.PreimageOffset,
		Heap:                        js.Heap,
		LLReservationStatus:         js.LLReservationStatus,
		LLAddress:                   js.LLAddress,
		LLOwnerThread:               js.LLOwnerThread,
		ExitCode:                    js.ExitCode,
		Exited:                      js.Exited,
		Step:                        js.Step,
		StepsSinceLastContextSwitch: js.StepsSinceLastContextSwitch,
		TraverseRight:               js.TraverseRight,
		LeftThreadStack:             js.LeftThreadStack,
		RightThreadStack:            js.RightThreadStack,
		NextThreadID:                js.NextThreadId,
		LastHint:                    js.LastHint,
	}
	for _, t := range append(append([]*Thread{}, s.LeftThreadStack...), s.RightThreadStack...) {
		if t == nil {
			return errors.New("null thread in thread stack")
		}
	}
	return nil
}

// isBinaryPath reports whether Cannon would store a state at path in the
// binary format (".bin" or ".bin.gz") rather than JSON.
func isBinaryPath(path string) bool {
	return strings.HasSuffix(path, ".bin") || strings.HasSuffix(path, ".bin.gz")
}

// WriteStateFile writes the state to path: binary for ".bin"/".bin.gz",
// JSON otherwise, gzip-compressed when path ends in ".gz".
func WriteStateFile(path string, s *State) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	var w io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		gz = gzip.NewWriter(f)
		w = gz
	}
	if isBinaryPath(path) {
		err = s.Serialize(w)
	} else if err = s.writeJSON(w); err == nil {
		_, err = w.Write([]byte{'\n'}) // as json.Encoder ends a value
	}
	if err == nil && gz != nil {
		err = gz.Close()
	}
	return err
}

// LoadStateFile reads a state written by WriteStateFile or by Cannon.
func LoadStateFile(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		defer gz.Close()
		r = gz
	}
	if isBinaryPath(path) {
		return DeserializeState(r)
	}
	s := new(State)
	if err := json.NewDecoder(r).Decode(s); err != nil {
		return nil, err
	}
	return s, nil
}
