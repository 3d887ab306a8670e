package vm

import (
	"bufio"
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

// ErrUnsupportedVersion is returned when decoding a state whose version
// byte is not StateVersion.
var ErrUnsupportedVersion = errors.New("unsupported state version")

// Serialize writes the state in Cannon's binary state format: the version
// byte, then the memory (page count, then index and contents of each page in
// ascending index order), the scalar fields, both thread stacks and the
// buffered hint; numbers are big-endian.
func (s *State) Serialize(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var b []byte
	b = append(b, StateVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Memory.PageCount()))
	if _, err := bw.Write(b); err != nil {
		return err
	}
	for _, idx := range s.Memory.PageIndexes() {
		var hdr [8]byte
		binary.BigEndian.PutUint64(hdr[:], idx)
		bw.Write(hdr[:])
		if _, err := bw.Write(s.Memory.pages[idx].data[:]); err != nil {
			return err
		}
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

// binReader reads the fields of the binary state format.
type binReader struct {
	r   io.Reader
	buf [8]byte
	err error
}

func (br *binReader) read(p []byte) {
	if br.err == nil {
		_, br.err = io.ReadFull(br.r, p)
	}
}

func (br *binReader) u8() uint8 {
	br.read(br.buf[:1])
	return br.buf[0]
}

func (br *binReader) u32() uint32 {
	br.read(br.buf[:4])
	return binary.BigEndian.Uint32(br.buf[:4])
}

func (br *binReader) u64() uint64 {
	br.read(br.buf[:8])
	return binary.BigEndian.Uint64(br.buf[:8])
}

func (br *binReader) boolean() bool {
	v := br.u8()
	if v > 1 && br.err == nil {
		br.err = fmt.Errorf("invalid boolean value: %v", v)
	}
	return v == 1
}

func (br *binReader) threads() []*Thread {
	n := br.u64()
	if br.err != nil {
		return nil
	}
	if n > 1<<24 {
		br.err = fmt.Errorf("implausible thread stack size %d", n)
		return nil
	}
	out := make([]*Thread, 0, n)
	var enc [ThreadEncodingSize]byte
	for i := uint64(0); i < n && br.err == nil; i++ {
		br.read(enc[:])
		if br.err != nil {
			break
		}
		t, _ := decodeThread(enc[:])
		out = append(out, t)
	}
	return out
}

// DeserializeState reads a state in the binary format written by Serialize.
func DeserializeState(r io.Reader) (*State, error) {
	br := &binReader{r: bufio.NewReaderSize(r, 1<<16)}
	if v := br.u8(); br.err == nil && v != StateVersion {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedVersion, v)
	}
	s := &State{Memory: NewMemory()}
	pages := br.u64()
	var data [PageSize]byte
	for i := uint64(0); i < pages && br.err == nil; i++ {
		idx := br.u64()
		br.read(data[:])
		if br.err == nil {
			br.err = s.Memory.setPage(idx, data[:])
		}
	}
	br.read(s.PreimageKey[:])
	s.PreimageOffset = br.u64()
	s.Heap = br.u64()
	s.LLReservationStatus = br.u8()
	s.LLAddress = br.u64()
	s.LLOwnerThread = br.u64()
	s.ExitCode = br.u8()
	s.Exited = br.boolean()
	s.Step = br.u64()
	s.StepsSinceLastContextSwitch = br.u64()
	s.TraverseRight = br.boolean()
	s.NextThreadID = br.u64()
	s.LeftThreadStack = br.threads()
	s.RightThreadStack = br.threads()
	if n := br.u32(); br.err == nil && n > 0 {
		s.LastHint = make([]byte, n)
		br.read(s.LastHint)
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
}

// MarshalJSON encodes the state in the JSON form Cannon's Go state type
// has (pages as arrays of byte values).
func (s *State) MarshalJSON() ([]byte, error) {
	js := jsonState{
		Memory:                      make([]jsonPage, 0, s.Memory.PageCount()),
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
	for _, idx := range s.Memory.PageIndexes() {
		js.Memory = append(js.Memory, jsonPage{Index: idx, Data: &s.Memory.pages[idx].data})
	}
	return json.Marshal(&js)
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (s *State) UnmarshalJSON(b []byte) error {
	var js jsonState
	if err := json.Unmarshal(b, &js); err != nil {
		return err
	}
	mem := NewMemory()
	for _, p := range js.Memory {
		if p.Data == nil {
			return fmt.Errorf("page %#x has no data", p.Index)
		}
		if err := mem.setPage(p.Index, p.Data[:]); err != nil {
			return err
		}
	}
	*s = State{
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
	} else {
		err = json.NewEncoder(w).Encode(s)
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
