package health

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The types below mirror the Kubernetes API objects the rules judge, with
// only the fields they read and the API's JSON names, so they decode from
// the API's JSON (Diagnose) or the dynamic client's unstructured objects
// (the gate), leaving every other field unread. They stand in for
// k8s.io/api: linking those typed structs keeps their protobuf methods in
// the binary (about 2 MB for the kinds judged here) although nothing here
// speaks protobuf. See https://kubernetes.io/docs/reference/kubernetes-api/
// for the meaning of each field.

// ObjectMeta is the part of metadata the rules read.
type ObjectMeta struct {
	Name              string                  `json:"name,omitempty"`
	Namespace         string                  `json:"namespace,omitempty"`
	UID               types.UID               `json:"uid,omitempty"`
	Generation        int64                   `json:"generation,omitempty"`
	Labels            map[string]string       `json:"labels,omitempty"`
	Annotations       map[string]string       `json:"annotations,omitempty"`
	OwnerReferences   []metav1.OwnerReference `json:"ownerReferences,omitempty"`
	CreationTimestamp metav1.Time             `json:"creationTimestamp,omitempty"`
	DeletionTimestamp *metav1.Time            `json:"deletionTimestamp,omitempty"`
}

// Condition is the common shape of the status conditions of Deployments,
// ReplicaSets, Jobs, HorizontalPodAutoscalers and Pods.
type Condition struct {
	Type               string      `json:"type"`
	Status             string      `json:"status"`
	Reason             string      `json:"reason,omitempty"`
	Message            string      `json:"message,omitempty"`
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// Deployment is an apps/v1 Deployment.
type Deployment struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       DeploymentSpec   `json:"spec,omitempty"`
	Status     DeploymentStatus `json:"status,omitempty"`
}

// DeploymentSpec is the part of a Deployment's spec the rules read.
type DeploymentSpec struct {
	Replicas *int32 `json:"replicas,omitempty"`
	Paused   bool   `json:"paused,omitempty"`
}

// DeploymentStatus is a Deployment's status.
type DeploymentStatus struct {
	ObservedGeneration  int64       `json:"observedGeneration,omitempty"`
	Replicas            int32       `json:"replicas,omitempty"`
	UpdatedReplicas     int32       `json:"updatedReplicas,omitempty"`
	ReadyReplicas       int32       `json:"readyReplicas,omitempty"`
	AvailableReplicas   int32       `json:"availableReplicas,omitempty"`
	UnavailableReplicas int32       `json:"unavailableReplicas,omitempty"`
	Conditions          []Condition `json:"conditions,omitempty"`
}

// StatefulSet is an apps/v1 StatefulSet.
type StatefulSet struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       StatefulSetSpec   `json:"spec,omitempty"`
	Status     StatefulSetStatus `json:"status,omitempty"`
}

// StatefulSetSpec is the part of a StatefulSet's spec the rules read.
type StatefulSetSpec struct {
	Replicas       *int32                    `json:"replicas,omitempty"`
	UpdateStrategy StatefulSetUpdateStrategy `json:"updateStrategy,omitempty"`
}

// StatefulSetUpdateStrategy is RollingUpdate (optionally partitioned) or OnDelete.
type StatefulSetUpdateStrategy struct {
	Type          string                            `json:"type,omitempty"`
	RollingUpdate *RollingUpdateStatefulSetStrategy `json:"rollingUpdate,omitempty"`
}

// RollingUpdateStatefulSetStrategy holds the partition of a rolling update.
type RollingUpdateStatefulSetStrategy struct {
	Partition *int32 `json:"partition,omitempty"`
}

// StatefulSetStatus is a StatefulSet's status.
type StatefulSetStatus struct {
	ObservedGeneration int64  `json:"observedGeneration,omitempty"`
	Replicas           int32  `json:"replicas"`
	ReadyReplicas      int32  `json:"readyReplicas,omitempty"`
	CurrentReplicas    int32  `json:"currentReplicas,omitempty"`
	UpdatedReplicas    int32  `json:"updatedReplicas,omitempty"`
	CurrentRevision    string `json:"currentRevision,omitempty"`
	UpdateRevision     string `json:"updateRevision,omitempty"`
}

// DaemonSet is an apps/v1 DaemonSet.
type DaemonSet struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       DaemonSetSpec   `json:"spec,omitempty"`
	Status     DaemonSetStatus `json:"status,omitempty"`
}

// DaemonSetSpec is the part of a DaemonSet's spec the rules read.
type DaemonSetSpec struct {
	UpdateStrategy DaemonSetUpdateStrategy `json:"updateStrategy,omitempty"`
}

// DaemonSetUpdateStrategy is RollingUpdate or OnDelete.
type DaemonSetUpdateStrategy struct {
	Type string `json:"type,omitempty"`
}

// DaemonSetStatus is a DaemonSet's status.
type DaemonSetStatus struct {
	ObservedGeneration     int64 `json:"observedGeneration,omitempty"`
	DesiredNumberScheduled int32 `json:"desiredNumberScheduled"`
	UpdatedNumberScheduled int32 `json:"updatedNumberScheduled,omitempty"`
	NumberReady            int32 `json:"numberReady"`
	NumberAvailable        int32 `json:"numberAvailable,omitempty"`
}

// ReplicaSet is an apps/v1 ReplicaSet.
type ReplicaSet struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       ReplicaSetSpec   `json:"spec,omitempty"`
	Status     ReplicaSetStatus `json:"status,omitempty"`
}

// ReplicaSetSpec is the part of a ReplicaSet's spec the rules read.
type ReplicaSetSpec struct {
	Replicas *int32 `json:"replicas,omitempty"`
}

// ReplicaSetStatus is a ReplicaSet's status.
type ReplicaSetStatus struct {
	ObservedGeneration int64       `json:"observedGeneration,omitempty"`
	Replicas           int32       `json:"replicas"`
	ReadyReplicas      int32       `json:"readyReplicas,omitempty"`
	AvailableReplicas  int32       `json:"availableReplicas,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"`
}

// Job is a batch/v1 Job.
type Job struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       JobSpec   `json:"spec,omitempty"`
	Status     JobStatus `json:"status,omitempty"`
}

// JobSpec is the part of a Job's spec the rules read.
type JobSpec struct {
	Suspend *bool `json:"suspend,omitempty"`
}

// JobStatus is a Job's status.
type JobStatus struct {
	Active     int32       `json:"active,omitempty"`
	Succeeded  int32       `json:"succeeded,omitempty"`
	Failed     int32       `json:"failed,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// Pod is a core/v1 Pod.
type Pod struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       PodSpec   `json:"spec,omitempty"`
	Status     PodStatus `json:"status,omitempty"`
}

// PodSpec is the part of a Pod's spec the rules read.
type PodSpec struct {
	RestartPolicy  string      `json:"restartPolicy,omitempty"`
	InitContainers []Container `json:"initContainers,omitempty"`
	Containers     []Container `json:"containers"`
}

// Container is the part of a container's spec the rules read.
type Container struct {
	Name      string               `json:"name"`
	Image     string               `json:"image,omitempty"`
	Resources ResourceRequirements `json:"resources,omitempty"`
	// RestartPolicy Always makes an init container a sidecar: it runs
	// beside the app containers and is restarted like them.
	RestartPolicy string `json:"restartPolicy,omitempty"`
}

// ResourceRequirements holds a container's limits, by resource name.
type ResourceRequirements struct {
	Limits map[string]resource.Quantity `json:"limits,omitempty"`
}

// PodStatus is a Pod's status.
type PodStatus struct {
	Phase                 string            `json:"phase,omitempty"`
	Conditions            []Condition       `json:"conditions,omitempty"`
	Message               string            `json:"message,omitempty"`
	Reason                string            `json:"reason,omitempty"`
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	ContainerStatuses     []ContainerStatus `json:"containerStatuses,omitempty"`
}

// ContainerStatus is one container's state as the kubelet reports it.
type ContainerStatus struct {
	Name                 string         `json:"name"`
	State                ContainerState `json:"state,omitempty"`
	LastTerminationState ContainerState `json:"lastState,omitempty"`
	Ready                bool           `json:"ready"`
	RestartCount         int32          `json:"restartCount"`
	Image                string         `json:"image"`
}

// ContainerState is at most one of waiting, running and terminated.
type ContainerState struct {
	Waiting    *ContainerStateWaiting    `json:"waiting,omitempty"`
	Running    *ContainerStateRunning    `json:"running,omitempty"`
	Terminated *ContainerStateTerminated `json:"terminated,omitempty"`
}

// ContainerStateWaiting says why a container is not running yet.
type ContainerStateWaiting struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ContainerStateRunning says since when a container runs.
type ContainerStateRunning struct {
	StartedAt metav1.Time `json:"startedAt,omitempty"`
}

// ContainerStateTerminated is how a container instance ended.
type ContainerStateTerminated struct {
	ExitCode   int32       `json:"exitCode"`
	Signal     int32       `json:"signal,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	Message    string      `json:"message,omitempty"`
	StartedAt  metav1.Time `json:"startedAt,omitempty"`
	FinishedAt metav1.Time `json:"finishedAt,omitempty"`
}

// PersistentVolumeClaim is a core/v1 PersistentVolumeClaim.
type PersistentVolumeClaim struct {
	ObjectMeta `json:"metadata,omitempty"`
	Status     PersistentVolumeClaimStatus `json:"status,omitempty"`
}

// PersistentVolumeClaimStatus holds the claim's phase.
type PersistentVolumeClaimStatus struct {
	Phase string `json:"phase,omitempty"`
}

// Service is a core/v1 Service.
type Service struct {
	ObjectMeta `json:"metadata,omitempty"`
	Spec       ServiceSpec   `json:"spec,omitempty"`
	Status     ServiceStatus `json:"status,omitempty"`
}

// ServiceSpec holds the Service's type.
type ServiceSpec struct {
	Type string `json:"type,omitempty"`
}

// ServiceStatus holds a load balancer's addresses.
type ServiceStatus struct {
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
}

// LoadBalancerStatus lists the addresses of a Service's or an Ingress's load balancer.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one load balancer address.
type LoadBalancerIngress struct {
	IP       string `json:"ip,omitempty"`
	Hostname string `json:"hostname,omitempty"`
}

// Ingress is a networking.k8s.io/v1 Ingress.
type Ingress struct {
	ObjectMeta `json:"metadata,omitempty"`
	Status     IngressStatus `json:"status,omitempty"`
}

// IngressStatus holds the Ingress's load balancer addresses.
type IngressStatus struct {
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
}

// HorizontalPodAutoscaler is an autoscaling/v2 HorizontalPodAutoscaler.
type HorizontalPodAutoscaler struct {
	ObjectMeta `json:"metadata,omitempty"`
	Status     HorizontalPodAutoscalerStatus `json:"status,omitempty"`
}

// HorizontalPodAutoscalerStatus holds the autoscaler's conditions.
type HorizontalPodAutoscalerStatus struct {
	Conditions []Condition `json:"conditions,omitempty"`
}

// Event is a core/v1 Event.
type Event struct {
	ObjectMeta     `json:"metadata,omitempty"`
	InvolvedObject ObjectReference  `json:"involvedObject"`
	Reason         string           `json:"reason,omitempty"`
	Message        string           `json:"message,omitempty"`
	FirstTimestamp metav1.Time      `json:"firstTimestamp,omitempty"`
	LastTimestamp  metav1.Time      `json:"lastTimestamp,omitempty"`
	Count          int32            `json:"count,omitempty"`
	Type           string           `json:"type,omitempty"`
	EventTime      metav1.MicroTime `json:"eventTime,omitempty"`
	Series         *EventSeries     `json:"series,omitempty"`
}

// ObjectReference names the object an event is about.
type ObjectReference struct {
	Kind      string    `json:"kind,omitempty"`
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name,omitempty"`
	UID       types.UID `json:"uid,omitempty"`
	FieldPath string    `json:"fieldPath,omitempty"`
}

// EventSeries is set on events recorded through events.k8s.io/v1.
type EventSeries struct {
	Count            int32            `json:"count,omitempty"`
	LastObservedTime metav1.MicroTime `json:"lastObservedTime,omitempty"`
}

// Values of the string fields above that the rules compare against.
const (
	conditionTrue  = "True"
	conditionFalse = "False"

	podPending   = "Pending"
	podRunning   = "Running"
	podSucceeded = "Succeeded"
	podFailed    = "Failed"

	podScheduled           = "PodScheduled"
	podReadyCondition      = "Ready"
	podReasonUnschedulable = "Unschedulable"

	restartAlways    = "Always"
	restartOnFailure = "OnFailure"
	restartNever     = "Never"

	eventWarning = "Warning"
)
