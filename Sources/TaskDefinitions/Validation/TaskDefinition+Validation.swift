extension TaskDefinition {
    /// Every ECS rule this definition breaks, each with the JSON path of the field at fault; empty when valid.
    ///
    /// ``decode(_:)`` runs this; call it directly for definitions built in code.
    public func validationIssues() -> [ValidationIssue] {
        var validator = Validator(definition: self)
        validator.validate()
        return validator.issues
    }

    /// The container names in an order that starts every container after the ones it depends on, or nil when
    /// the dependencies name unknown containers or form a cycle. Ties keep the definition's order.
    public func containerStartOrder() -> [String]? {
        let graph = DependencyGraph(self)
        guard graph.hasOnlyKnownTargets else { return nil }
        return graph.topologicalOrder()?.map { containerDefinitions[$0].name }
    }
}

/// Collects the issues of one definition. Each `validate…` method checks one ECS object and reports every
/// broken rule; none stops at the first.
struct Validator {
    let definition: TaskDefinition
    private(set) var issues: [ValidationIssue] = []

    init(definition: TaskDefinition) { self.definition = definition }

    mutating func report(_ path: FieldPath, _ message: String) {
        issues.append(ValidationIssue(path: path, message: message))
    }

    mutating func validate() {
        validateFamily()
        validateTaskResources()
        validateCompatibilities()
        validateVolumes()
        validatePlacementConstraints()
        validateTags()
        validateContainerList()
    }

    // MARK: - Names

    /// 1–255 of letters, digits, `_` and `-`: the rule ECS applies to families, containers and volumes.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= TaskDefinitionLimits.maxNameLength
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                        || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
            }
    }

    static let nameRule = "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."

    mutating func validateFamily() {
        let path = FieldPath.root.key("family")
        if definition.family.isEmpty {
            report(path, "Family should not be null or empty.")
        } else if definition.family.utf8.count > TaskDefinitionLimits.maxNameLength {
            report(path, "Family must be at most 255 characters long, got \(definition.family.utf8.count).")
        } else if !Self.isValidName(definition.family) {
            report(path, "Family contains invalid characters. \(Self.nameRule)")
        }
    }
}
