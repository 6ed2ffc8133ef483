public import ECSVocabulary
public import GRDB

// The vocabulary's words bind (and read) as their ECS spelling, their rawValue, so no SQL text spells a status.
// Reading a column with `as TaskStatus` traps on a word this version does not know: read `String` and convert where
// a stored word may be unknown.
extension TaskStatus: DatabaseValueConvertible {}
extension TaskContainerStatus: DatabaseValueConvertible {}
extension HealthStatus: DatabaseValueConvertible {}
extension StopCode: DatabaseValueConvertible {}
extension ClusterStatus: DatabaseValueConvertible {}
extension ContainerInstanceStatus: DatabaseValueConvertible {}
extension ServiceStatus: DatabaseValueConvertible {}
extension DeploymentStatus: DatabaseValueConvertible {}
extension RolloutState: DatabaseValueConvertible {}
extension TaskDefinitionStatus: DatabaseValueConvertible {}
extension WireValue: DatabaseValueConvertible {}
