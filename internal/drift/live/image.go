// Package live judges what runs on the Kubernetes plane beside the objects Git declares: the
// image digests Pods actually run (mutable tags that moved), secret delivery read from metadata
// only (ExternalSecrets, SealedSecrets, Secrets changed after their consumers started), objects
// nothing declares or owns, and the live objects a unit's policy rules judge. It is core: it
// takes objects as JSON-shaped maps (unstructured) and the unit, and returns observations the
// decision table decides (drift.LiveCheck); Collect reads them from a cluster with a dynamic and
// a metadata-only client, so no Secret value is ever fetched.
package live

import (
	"strings"
)

// ImageRef is an image reference as a Pod spec names it: repository, tag and digest (either
// may be empty).
type ImageRef struct {
	Repository, Tag, Digest string
}

// ParseImageRef splits an image reference (registry.example.com:5000/team/web:1.2@sha256:…).
// It never fails: what cannot be read as a tag or digest stays in the repository, so an odd
// reference is judged as unpinned rather than dropped.
func ParseImageRef(s string) ImageRef {
	var r ImageRef
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if d, ok := ParseDigest(s[i+1:]); ok {
			r.Digest = d
			s = s[:i]
		}
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash && i >= 0 {
		r.Tag = s[i+1:]
		s = s[:i]
	}
	r.Repository = s
	return r
}

// Pinned reports whether the reference names a digest, so its content cannot move.
func (r ImageRef) Pinned() bool { return r.Digest != "" }

// DisplayTag is the tag as a person reads it: "latest" when none is given.
func (r ImageRef) DisplayTag() string {
	if r.Tag == "" {
		return "latest"
	}
	return r.Tag
}

// NormalizedRepository spells a repository the way a registry resolves it (nginx is
// docker.io/library/nginx), so a status's repository can be compared with the spec's.
func NormalizedRepository(repo string) string {
	if repo == "" {
		return ""
	}
	first, rest, found := strings.Cut(repo, "/")
	if !found {
		return "docker.io/library/" + repo
	}
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io/" + repo
	}
	if first == "index.docker.io" {
		return "docker.io/" + rest
	}
	return repo
}

// ImageID is what a container status says the container runs: the digest, and the repository
// when the runtime names one.
type ImageID struct {
	Repository, Digest string
}

// ParseImageID reads status.containerStatuses[].imageID as runtimes write it
// (docker-pullable://repo@sha256:…, docker://sha256:…, repo@sha256:…, sha256:…). The text comes
// from a Pod's status, which anyone who may write the status can set, so only a well-formed
// digest is believed; false means it says nothing usable.
func ParseImageID(s string) (ImageID, bool) {
	if len(s) > maxImageIDLength {
		return ImageID{}, false
	}
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	var id ImageID
	if i := strings.LastIndex(s, "@"); i >= 0 {
		id.Repository = s[:i]
		s = s[i+1:]
		if id.Repository == "" || strings.ContainsAny(id.Repository, " \t\n@") {
			return ImageID{}, false
		}
	}
	d, ok := ParseDigest(s)
	if !ok {
		return ImageID{}, false
	}
	id.Digest = d
	return id, true
}

// maxImageIDLength bounds the text believed as an image id (a repository is at most 255 bytes).
const maxImageIDLength = 512

// ParseDigest accepts algorithm:hex with the length the algorithm fixes (sha256: 64, sha512:
// 128), lower-case hex only, and returns it unchanged.
func ParseDigest(s string) (string, bool) {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok {
		return "", false
	}
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if want == 0 || len(hex) != want {
		return "", false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return s, true
}
