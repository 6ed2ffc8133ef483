/// The control plane: ECS API, store, reconciler.
public enum ControlPlaneModule {}
