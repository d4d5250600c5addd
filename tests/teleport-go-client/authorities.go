package main

// Certificate authorities as Teleport's API client reads them: tbot fetches
// the host, user and database CAs with the bot's own identity
// (lib/tbot/services/identity/output.go), so a bot must be able to read them
// without keys; nobody here may read the keys.

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/gravitational/teleport/api/client"
	"github.com/gravitational/teleport/api/identityfile"
	"github.com/gravitational/teleport/api/types"
	"github.com/gravitational/trace"
	"golang.org/x/crypto/ssh"
)

// certAuthorities checks what `who` may read. `identity` is the identity
// file clt uses: its TLS certificate must chain to the user CA it reads.
func certAuthorities(ctx context.Context, clt *client.Client, who, cluster, identity string) error {
	for _, caType := range []types.CertAuthType{types.HostCA, types.UserCA, types.DatabaseCA} {
		cas, err := clt.GetCertAuthorities(ctx, caType, false)
		if err != nil {
			return fmt.Errorf("%s: GetCertAuthorities(%s): %w", who, caType, err)
		}
		if len(cas) != 1 {
			return fmt.Errorf("%s: GetCertAuthorities(%s) returned %d CAs, want 1", who, caType, len(cas))
		}
		ca := cas[0]
		if ca.GetClusterName() != cluster || ca.GetType() != caType || ca.GetName() != cluster {
			return fmt.Errorf("%s: the %s CA is %q of type %q named %q", who, caType, ca.GetClusterName(), ca.GetType(), ca.GetName())
		}
		if err := ca.(*types.CertAuthorityV2).CheckAndSetDefaults(); err != nil {
			return fmt.Errorf("%s: the %s CA does not pass Teleport's own checks: %w", who, caType, err)
		}
		tlsPairs := ca.GetTrustedTLSKeyPairs()
		if len(tlsPairs) == 0 {
			return fmt.Errorf("%s: the %s CA has no TLS certificate", who, caType)
		}
		for _, kp := range tlsPairs {
			if len(kp.Key) != 0 {
				return fmt.Errorf("%s: the %s CA was served with its TLS private key", who, caType)
			}
			if _, err := parsePEMCert(kp.Cert); err != nil {
				return fmt.Errorf("%s: the %s CA certificate: %w", who, caType, err)
			}
		}
		sshPairs := ca.GetTrustedSSHKeyPairs()
		if wantSSH := caType != types.DatabaseCA; wantSSH != (len(sshPairs) > 0) {
			return fmt.Errorf("%s: the %s CA has %d SSH keys", who, caType, len(sshPairs))
		}
		for _, kp := range sshPairs {
			if len(kp.PrivateKey) != 0 {
				return fmt.Errorf("%s: the %s CA was served with its SSH private key", who, caType)
			}
			if _, _, _, _, err := ssh.ParseAuthorizedKey(kp.PublicKey); err != nil {
				return fmt.Errorf("%s: the %s CA SSH key is not an authorized_keys line: %w", who, caType, err)
			}
		}
		if caType == types.UserCA {
			if err := verifiesIdentity(identity, tlsPairs); err != nil {
				return fmt.Errorf("%s: %w", who, err)
			}
		}
	}
	host, err := clt.GetCertAuthority(ctx, types.CertAuthID{Type: types.HostCA, DomainName: cluster}, false)
	if err != nil {
		return fmt.Errorf("%s: GetCertAuthority(host): %w", who, err)
	}
	if host.GetClusterName() != cluster {
		return fmt.Errorf("%s: GetCertAuthority(host) is for %q", who, host.GetClusterName())
	}
	if _, err := clt.GetCertAuthorities(ctx, types.HostCA, true); expect(err, "AccessDenied", trace.IsAccessDenied) != nil {
		return fmt.Errorf("%s: GetCertAuthorities with keys: %w", who, expect(err, "AccessDenied", trace.IsAccessDenied))
	}
	if _, err := clt.GetCertAuthority(ctx, types.CertAuthID{Type: types.UserCA, DomainName: cluster}, true); expect(err, "AccessDenied", trace.IsAccessDenied) != nil {
		return fmt.Errorf("%s: GetCertAuthority with keys: %w", who, expect(err, "AccessDenied", trace.IsAccessDenied))
	}
	// A type Teleport does not know: the server's message is CertAuthType.Check's.
	bogus := types.CertAuthType("bogus")
	want := bogus.Check().Error()
	if _, err := clt.GetCertAuthorities(ctx, bogus, false); exactly(err, "BadParameter", trace.IsBadParameter, want) != nil {
		return fmt.Errorf("%s: GetCertAuthorities(bogus): %w", who, exactly(err, "BadParameter", trace.IsBadParameter, want))
	}
	_, wantErr := types.NewCertAuthority(types.CertAuthoritySpecV2{Type: bogus, ClusterName: cluster})
	if _, err := clt.GetCertAuthority(ctx, types.CertAuthID{Type: bogus, DomainName: cluster}, false); exactly(err, "BadParameter", trace.IsBadParameter, wantErr.Error()) != nil {
		return fmt.Errorf("%s: GetCertAuthority(bogus): %w", who, exactly(err, "BadParameter", trace.IsBadParameter, wantErr.Error()))
	}
	if _, err := clt.GetCertAuthority(ctx, types.CertAuthID{Type: types.HostCA, DomainName: "elsewhere.example"}, false); expect(err, "NotFound", trace.IsNotFound) != nil {
		return fmt.Errorf("%s: GetCertAuthority of another cluster: %w", who, expect(err, "NotFound", trace.IsNotFound))
	}
	return nil
}

func parsePEMCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("not a PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// verifiesIdentity checks the identity file's TLS certificate chains to one
// of the user CA's certificates: the user CA is the one that signs users.
func verifiesIdentity(path string, userCA []*types.TLSKeyPair) error {
	id, err := identityfile.ReadFile(path)
	if err != nil {
		return err
	}
	leaf, err := parsePEMCert(id.Certs.TLS)
	if err != nil {
		return fmt.Errorf("the identity's TLS certificate: %w", err)
	}
	roots := x509.NewCertPool()
	for _, kp := range userCA {
		cert, err := parsePEMCert(kp.Cert)
		if err != nil {
			return err
		}
		roots.AddCert(cert)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("the identity's TLS certificate does not chain to the user CA: %w", err)
	}
	return nil
}
