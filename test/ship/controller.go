package ship

import (
	"fmt"
	"maps"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// What Argo CD and the controllers do with the rendered objects, for a test
// cluster that has neither: the hook Job as Argo CD creates it, the Pod the
// Job controller makes for it, and the Job `kubectl create job --from`
// makes of a CronJob.

// TrackingIDAnnotation is where Argo CD's annotation-based resource tracking
// (the default since Argo CD 3.0) records which Application owns an object.
const TrackingIDAnnotation = "argocd.argoproj.io/tracking-id"

// ManualInstantiateAnnotation marks a Job made from a CronJob by hand
// (`kubectl create job --from=cronjob/…`).
const ManualInstantiateAnnotation = "cronjob.kubernetes.io/instantiate"

// TrackingID is the tracking-id Argo CD writes on obj for the Application
// app: "<app>:<group>/<kind>:<namespace>/<name>". app is the Application's
// name, or "<namespace>_<name>" for one outside Argo CD's namespace.
func TrackingID(app string, obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	return fmt.Sprintf("%s:%s/%s:%s/%s", app, gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName())
}

// HookJob returns the rendered Job obj as Argo CD creates it when its hook
// phase comes: with the tracking-id annotation for app, which Argo CD adds
// at sync time (see TrackingID), and in namespace when it names none.
func HookJob(obj *unstructured.Unstructured, app, namespace string) (*batchv1.Job, error) {
	if obj.GetKind() != "Job" {
		return nil, fmt.Errorf("%s: not a Job", ID(obj))
	}
	obj = obj.DeepCopy()
	if obj.GetNamespace() == "" {
		obj.SetNamespace(namespace)
	}
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[TrackingIDAnnotation] = TrackingID(app, obj)
	obj.SetAnnotations(ann)
	var job batchv1.Job
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, &job, true); err != nil {
		return nil, fmt.Errorf("%s: %w", ID(obj), err)
	}
	return &job, nil
}

// PodForJob returns the Pod the Job controller creates for job, which must
// be the stored Job (with its UID, and the labels the API server added to
// its template): generateName "<job>-", the template's labels and
// annotations, a controller reference to the Job, and the template's spec.
// The controller's job-tracking finalizer is left out: no controller here
// would remove it.
func PodForJob(job *batchv1.Job) *corev1.Pod {
	tmpl := job.Spec.Template
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: job.Name + "-",
			Namespace:    job.Namespace,
			Labels:       maps.Clone(tmpl.Labels),
			Annotations:  maps.Clone(tmpl.Annotations),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         batchv1.SchemeGroupVersion.String(),
				Kind:               "Job",
				Name:               job.Name,
				UID:                job.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
}

// JobFromCronJob returns the Job `kubectl create job name
// --from=cronjob/<cj>` creates, cj being the stored CronJob: the job
// template's spec, labels and annotations, the annotation
// cronjob.kubernetes.io/instantiate=manual, and a controller reference to
// the CronJob (kubectl's createJobFromCronJob).
func JobFromCronJob(cj *batchv1.CronJob, name string) *batchv1.Job {
	ann := map[string]string{ManualInstantiateAnnotation: "manual"}
	maps.Copy(ann, cj.Spec.JobTemplate.Annotations)
	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   cj.Namespace,
			Annotations: ann,
			Labels:      maps.Clone(cj.Spec.JobTemplate.Labels),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: batchv1.SchemeGroupVersion.String(),
				Kind:       "CronJob",
				Name:       cj.Name,
				UID:        cj.UID,
				Controller: ptr.To(true),
			}},
		},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
}

// ToUnstructured converts a typed object, such as a Job read back from the
// API server (whose apiVersion and kind the client leaves empty), for
// ContainerEnv and SecretFile.
func ToUnstructured(obj runtime.Object, apiVersion, kind string) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u, nil
}
