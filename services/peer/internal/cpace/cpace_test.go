package cpace_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/cpace"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The draft's vectors for CPACE-RISTR255-SHA512 (draft-irtf-cfrg-cpace-21,
// appendix "Test vector for CPace using group ristretto255 and hash
// SHA-512"); its ADa and ADb are "ADa" and "ADb", which netlab's
// protocol leaves empty, so its ISK is checked with ISKWithAD.
var (
	draftPRS = []byte("Password")
	draftCI  = []byte("\x0bA_initiator\x0bB_responder")
	draftSID = "7e4b4791d6a8ef019b936c79fb7f2c57"
	draftGen = `11435061636552697374726574746f3235350850617373776f726464
      00000000000000000000000000000000000000000000000000000000
      00000000000000000000000000000000000000000000000000000000
      00000000000000000000000000000000000000000000000000000000
      00000000000000000000000000000000180b415f696e69746961746f
      720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f
      2c57`
	draftG  = "222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56"
	draftYa = "da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08"
	draftYA = "d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157"
	draftYb = "d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d"
	draftYB = "3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258"
	draftK  = "80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f"
)

func TestGenerator_DraftVector(t *testing.T) {
	sid := unhex(t, draftSID)
	if got := cpace.GeneratorString(draftPRS, draftCI, sid); !bytes.Equal(got, unhex(t, draftGen)) {
		t.Fatalf("generator string %x", got)
	}
	var g [32]byte
	cpace.Generator(draftPRS, draftCI, sid).Encode(g[:0])
	if hex.EncodeToString(g[:]) != draftG {
		t.Fatalf("g = %x, want %s", g, draftG)
	}
}

func TestShares_DraftVector(t *testing.T) {
	sid := unhex(t, draftSID)
	a, err := cpace.Start([32]byte(unhex(t, draftYa)), draftPRS, draftCI, sid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cpace.Start([32]byte(unhex(t, draftYb)), draftPRS, draftCI, sid)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Share(); hex.EncodeToString(got[:]) != draftYA {
		t.Errorf("Ya = %x", got)
	}
	if got := b.Share(); hex.EncodeToString(got[:]) != draftYB {
		t.Errorf("Yb = %x", got)
	}
	// With empty associated data both sides still agree, on the draft's K.
	if !agree(t, a, b) {
		t.Fatal("ISKs differ")
	}
	got, err := a.Finish(b.Share(), true)
	if err != nil {
		t.Fatal(err)
	}
	if want := cpace.ISKWithAD(sid, [32]byte(unhex(t, draftK)), a.Share(), nil, b.Share(), nil); got != want {
		t.Fatal("K differs from the draft's")
	}
}

// TestISK_DraftVector checks the ISK hashing with the draft's K and
// transcript (which has ADa = "ADa", ADb = "ADb").
func TestISK_DraftVector(t *testing.T) {
	const want = `b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dc
      ae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c
      3fa2068af7900447`
	got := cpace.ISKWithAD(unhex(t, draftSID), [32]byte(unhex(t, draftK)),
		[32]byte(unhex(t, draftYA)), []byte("ADa"), [32]byte(unhex(t, draftYB)), []byte("ADb"))
	if !bytes.Equal(got[:], unhex(t, want)) {
		t.Fatalf("ISK = %x", got)
	}
}

func TestFinish_DifferentPasswordsDisagree(t *testing.T) {
	sid := []byte("sid")
	run := func(pa, pb string) bool {
		return agree(t, start(t, pa, sid), start(t, pb, sid))
	}
	if !run("secret", "secret") {
		t.Fatal("same password: keys differ")
	}
	if run("secret", "secreT") {
		t.Fatal("different passwords: keys agree")
	}
}

func TestFinish_RefusesBadShares(t *testing.T) {
	a := start(t, "pw", nil)
	var zero [32]byte // the identity's encoding
	if _, err := a.Finish(zero, true); err == nil {
		t.Error("identity accepted")
	}
	var bad [32]byte
	bad[31] = 0xff // not canonical
	if _, err := a.Finish(bad, true); err == nil {
		t.Error("non-canonical element accepted")
	}
}

func start(t *testing.T, pw string, sid []byte) *cpace.Party {
	t.Helper()
	y, err := cpace.RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cpace.Start(y, []byte(pw), []byte("ci"), sid)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// agree finishes a run between initiator a and responder b and reports
// whether their keys are the same.
func agree(t *testing.T, a, b *cpace.Party) bool {
	t.Helper()
	ka, err := a.Finish(b.Share(), true)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.Finish(a.Share(), false)
	if err != nil {
		t.Fatal(err)
	}
	return ka == kb
}
