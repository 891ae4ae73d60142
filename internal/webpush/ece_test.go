package webpush

import (
	"errors"
	"testing"
)

// The examples of RFC 8188 section 3: aes128gcm with a key given directly
// (no Web Push key agreement), one record, then several records with
// padding and a keyid.
func TestDecryptRFC8188Examples(t *testing.T) {
	for _, tc := range []struct {
		name, ikm, keyid, body string
	}{
		{"3.1 one record", "yqdlZ-tYemfogSmv7Ws5PQ", "", "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg"},
		{"3.2 several records", "BO3ZVPxUlnLORbVGMpbT1Q", "a1", "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA"},
	} {
		ikm := unb64(t, tc.ikm)
		body := unb64(t, tc.body)
		got, err := decryptECE(body, func(keyid []byte) ([]byte, error) {
			if string(keyid) != tc.keyid {
				return nil, errors.New("keyid " + string(keyid))
			}
			return ikm, nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != "I am the walrus" {
			t.Fatalf("%s: %q", tc.name, got)
		}
		// Dropping the last record (the truncation RFC 8188 guards
		// against) must be an error, not a shorter plaintext.
		if tc.keyid != "" {
			if _, err := decryptECE(body[:len(body)-10], func([]byte) ([]byte, error) { return ikm, nil }); err == nil {
				t.Errorf("%s: a cut body decrypted", tc.name)
			}
			if _, err := decryptECE(body[:21+2+25], func([]byte) ([]byte, error) { return ikm, nil }); err == nil {
				t.Errorf("%s: the first record alone decrypted", tc.name)
			}
		}
	}
}

func TestDecryptRejects(t *testing.T) {
	sub, priv, auth := newSub(t, "https://push.example/x")
	body, err := Encrypt(sub, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"header only":    body[:21],
		"cut keyid":      body[:40],
		"no record":      body[:86],
		"short record":   body[:86+10],
		"record size 17": append(append(append([]byte{}, body[:16]...), 0, 0, 0, 17), body[20:]...),
		"keyid length 3": append(append(append([]byte{}, body[:20]...), 3), body[21:]...),
	} {
		if _, err := Decrypt(b, priv, auth); err == nil {
			t.Errorf("%s: decrypted", name)
		}
	}
	if _, err := Decrypt(body, priv, auth[:8]); err == nil {
		t.Error("short auth secret accepted")
	}
	if _, err := Decrypt(body, nil, auth); err == nil {
		t.Error("nil key accepted")
	}
}
