/// The node agent: sync with the control plane, task lifecycle and the namespace runtime.
public enum NodeAgentModule {}
