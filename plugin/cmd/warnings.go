package cmd

import (
	"io"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/plugin/pkg/term"
)

// The server's warnings are held until the command's write has succeeded:
// hikube-apiserver sends a cluster's advice (say, GPUs without the GPU
// operator) before admission may still refuse the cluster, and a refused
// command prints one error line, not advice about what was not created.
var warnings = &heldWarnings{}

type heldWarnings struct {
	mu   sync.Mutex
	out  rest.WarningHandler
	held []heldWarning
}

type heldWarning struct {
	code        int
	agent, text string
}

// reset makes the next warnings go to errOut (deduplicated, coloured on a
// terminal) once flushed, and forgets any held.
func (h *heldWarnings) reset(errOut io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.out = rest.NewWarningWriter(errOut, rest.WarningWriterOptions{Deduplicate: true, Color: term.ColorEnabled(errOut)})
	h.held = nil
}

func (h *heldWarnings) HandleWarningHeader(code int, agent, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = append(h.held, heldWarning{code, agent, text})
}

// flush prints what is held: after a write succeeded, and at the end of a
// command that succeeded.
func (h *heldWarnings) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.held {
		if h.out != nil {
			h.out.HandleWarningHeader(w.code, w.agent, w.text)
		}
	}
	h.held = nil
}

// drop forgets what is held: the command failed.
func (h *heldWarnings) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = nil
}
