package authzretry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

type answer struct {
	decision authorizer.Decision
	err      error
}

// scripted answers in turn and counts the questions.
type scripted struct {
	answers []answer
	asked   int
}

func (s *scripted) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	a := s.answers[min(s.asked, len(s.answers)-1)]
	s.asked++
	return a.decision, "", a.err
}

var fast = wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}

func attrs() authorizer.Attributes {
	return authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Resource: "clusters", ResourceRequest: true}
}

func TestAsksAgainOnlyWhatAskingAgainCures(t *testing.T) {
	// What a SubjectAccessReview whose client timeout ran out returns.
	timedOut := &url.Error{Op: "Post", URL: "https://host/apis/authorization.k8s.io/v1/subjectaccessreviews", Err: context.DeadlineExceeded}
	gr := schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}
	for _, tc := range []struct {
		name     string
		answers  []answer
		decision authorizer.Decision
		err      bool
		asked    int
	}{
		{"allowed at once", []answer{{authorizer.DecisionAllow, nil}}, authorizer.DecisionAllow, false, 1},
		{"denied at once: a denial is an answer", []answer{{authorizer.DecisionDeny, nil}}, authorizer.DecisionDeny, false, 1},
		{"timed out, then allowed", []answer{{authorizer.DecisionNoOpinion, timedOut}, {authorizer.DecisionAllow, nil}}, authorizer.DecisionAllow, false, 2},
		{"busy, timed out, then denied", []answer{{authorizer.DecisionNoOpinion, apierrors.NewTooManyRequests("busy", 1)}, {authorizer.DecisionNoOpinion, apierrors.NewTimeoutError("slow", 1)}, {authorizer.DecisionDeny, nil}}, authorizer.DecisionDeny, false, 3},
		{"still timing out after the last attempt: the error stays", []answer{{authorizer.DecisionNoOpinion, timedOut}}, authorizer.DecisionNoOpinion, true, 3},
		{"the host's internal error", []answer{{authorizer.DecisionNoOpinion, apierrors.NewInternalError(errors.New("etcd"))}, {authorizer.DecisionAllow, nil}}, authorizer.DecisionAllow, false, 2},
		{"forbidden to review: asking again cannot cure it", []answer{{authorizer.DecisionNoOpinion, apierrors.NewForbidden(gr, "", errors.New("no"))}}, authorizer.DecisionNoOpinion, true, 1},
		{"a malformed answer", []answer{{authorizer.DecisionNoOpinion, fmt.Errorf("decoding the review: %w", errors.New("bad json"))}}, authorizer.DecisionNoOpinion, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{answers: tc.answers}
			d, _, err := New(authorizer.AuthorizerFunc(s.Authorize), fast).Authorize(context.Background(), attrs())
			if d != tc.decision || (err != nil) != tc.err || s.asked != tc.asked {
				t.Errorf("decision %v, err %v, asked %d times; want %v, error %v, %d times", d, err, s.asked, tc.decision, tc.err, tc.asked)
			}
		})
	}
}

func TestStopsWhenTheRequestEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &scripted{answers: []answer{{authorizer.DecisionNoOpinion, context.DeadlineExceeded}}}
	cancel()
	_, _, err := New(authorizer.AuthorizerFunc(s.Authorize), wait.Backoff{Duration: time.Hour, Steps: 5}).Authorize(ctx, attrs())
	if err == nil || s.asked != 1 {
		t.Errorf("err %v after %d questions; want the error after one", err, s.asked)
	}
	// A request that ends while waiting to ask again gets the error then.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	s = &scripted{answers: []answer{{authorizer.DecisionNoOpinion, apierrors.NewTooManyRequests("busy", 1)}}}
	if _, _, err := New(authorizer.AuthorizerFunc(s.Authorize), wait.Backoff{Duration: time.Hour, Steps: 5}).Authorize(ctx, attrs()); err == nil || s.asked != 1 {
		t.Errorf("err %v after %d questions; want the error after one", err, s.asked)
	}
}
