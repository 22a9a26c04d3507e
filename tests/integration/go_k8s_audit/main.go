// Sends audit events through the Kubernetes API server's own audit webhook backend
// (k8s.io/apiserver/plugin/pkg/audit/webhook), configured by a kubeconfig file, exactly as
// kube-apiserver --audit-webhook-config-file does. Prints "ok" when the backend delivered.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	utilwebhook "k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/apiserver/plugin/pkg/audit/webhook"
)

func main() {
	kubeconfig, prefix := os.Args[1], os.Args[2]
	n, _ := strconv.Atoi(os.Args[3])
	backend, err := webhook.NewBackend(kubeconfig, auditv1.SchemeGroupVersion, utilwebhook.DefaultRetryBackoffWithInitialDelay(time.Second), nil)
	if err != nil {
		panic(err)
	}
	now := metav1.NewMicroTime(time.Now())
	events := make([]*auditinternal.Event, 0, n)
	for i := 0; i < n; i++ {
		events = append(events, &auditinternal.Event{
			Level:                    auditinternal.LevelMetadata,
			AuditID:                  types.UID(fmt.Sprintf("%s-%d", prefix, i)),
			Stage:                    auditinternal.StageResponseComplete,
			RequestURI:               "/api/v1/namespaces/default/secrets/db-password",
			Verb:                     "get",
			User:                     authnv1.UserInfo{Username: "system:serviceaccount:default:webhook-test", Groups: []string{"system:serviceaccounts"}},
			SourceIPs:                []string{"10.0.0.7"},
			UserAgent:                "kubectl/v1.31.0",
			ObjectRef:                &auditinternal.ObjectReference{Resource: "secrets", Namespace: "default", Name: "db-password", APIVersion: "v1"},
			ResponseStatus:           &metav1.Status{Code: 200},
			RequestReceivedTimestamp: now,
			StageTimestamp:           now,
		})
	}
	if !backend.ProcessEvents(events...) {
		fmt.Fprintln(os.Stderr, "webhook backend failed to deliver")
		os.Exit(1)
	}
	fmt.Println("ok")
}
