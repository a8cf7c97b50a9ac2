package procs_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

func TestGroupStartsWaitsAndStops(t *testing.T) {
	sh := testtools.Command(t, "sh")
	dir := t.TempDir()
	marker := filepath.Join(dir, "ready")
	var p *procs.Proc
	t.Run("run", func(t *testing.T) {
		g := procs.New(t, filepath.Join(dir, "logs"))
		// The program sees the extra environment, writes to its log, and keeps running until
		// interrupted.
		p = g.Start("sleeper", sh, []string{"PROCS_TEST=hello"}, "-c",
			`echo "env $PROCS_TEST"; echo line2; touch "$0"; exec sleep 600`, marker)
		procs.WaitFile(t, marker)
		procs.WaitFor(t, 10*time.Second, "the log", func() (bool, string) {
			tail := g.Tail("sleeper", 1)
			return tail == "line2", tail
		})
		if got := procs.Tail(g.LogPath("sleeper"), 5); got != "env hello\nline2" {
			t.Fatalf("log %q", got)
		}
		select {
		case <-p.Exited():
			t.Fatal("exited early")
		default:
		}
	})
	// The subtest's cleanup stopped it.
	select {
	case <-p.Exited():
	case <-time.After(time.Second):
		t.Fatal("still running after its test ended")
	}
}

func TestGroupKillsAProgramIgnoringTheInterrupt(t *testing.T) {
	sh := testtools.Command(t, "sh")
	var p *procs.Proc
	start := time.Now()
	t.Run("run", func(t *testing.T) {
		g := procs.New(t, t.TempDir())
		g.Grace = 200 * time.Millisecond
		marker := filepath.Join(t.TempDir(), "trapped")
		p = g.Start("stubborn", sh, nil, "-c", `trap "" INT; touch "$0"; while :; do sleep 1; done`, marker)
		procs.WaitFile(t, marker)
	})
	select {
	case <-p.Exited():
	default:
		t.Fatal("still running after its test ended")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopping took %s", d)
	}
}

func TestWaitTCPAndFreePort(t *testing.T) {
	port := procs.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	listening := make(chan net.Listener, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
		}
		listening <- l
	}()
	procs.WaitTCP(t, addr)
	if l := <-listening; l != nil {
		_ = l.Close()
	}
}

func TestWriteFileAndTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "b", "f.txt")
	procs.WriteFile(t, p, strings.Repeat("x\n", 50)+"last\n")
	if got := procs.Tail(p, 2); got != "x\nlast" {
		t.Fatalf("tail %q", got)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("stat %v %v", fi, err)
	}
	if got := procs.Tail(filepath.Join(t.TempDir(), "absent"), 3); got != "" {
		t.Fatalf("tail of a missing file %q", got)
	}
}
