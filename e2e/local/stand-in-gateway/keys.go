package main

// An Ed25519 JWK pair for the signer and the validator, as the operator makes one.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	D   string `json:"d,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func writeKeyPair(dir, kid string) error {
	if kid == "" {
		return errors.New("keys needs -kid")
	}
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	key := jwk{Kty: "OKP", Crv: "Ed25519", X: b64(public), Kid: kid, Alg: "EdDSA", Use: "sig"}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	write := func(name string, k jwk) error {
		raw, _ := json.MarshalIndent(map[string][]jwk{"keys": {k}}, "", "  ")
		return os.WriteFile(filepath.Join(dir, name), raw, 0o600)
	}
	if err := write("public.json", key); err != nil {
		return err
	}
	key.D = b64(private.Seed())
	return write("private.json", key)
}
