/// The input of `PutAttributes` and `DeleteAttributes`.
public struct AttributesRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var attributes: [Attribute]
}

/// The input of `ListAttributes`.
public struct ListAttributesRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var targetType: String
    public var attributeName: String?
    public var attributeValue: String?
    public var nextToken: String?
    public var maxResults: Int?
}

/// ECS's rules for custom attributes (PutAttributes, DeleteAttributes).
public enum AttributeRules {
    /// Letters, digits, and `_ . - / @`.
    public static func isAttributeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "_.-/@".contains(character))
    }

    /// 1 to 10 attributes, each named, sized and targeted as ECS requires.
    public static func check(_ attributes: [Attribute]) throws(ECSError) {
        guard (1...10).contains(attributes.count) else {
            throw .invalidParameter("attributes: give 1 to 10 attributes, got \(attributes.count).")
        }
        for (index, attribute) in attributes.enumerated() {
            guard (1...128).contains(attribute.name.count), attribute.name.allSatisfy(isAttributeCharacter) else {
                throw .invalidParameter(
                    "attributes[\(index)].name: must be 1 to 128 letters, digits, hyphens, underscores, periods, at signs or slashes."
                )
            }
            if let value = attribute.value, !(1...128).contains(value.count) {
                throw .invalidParameter("attributes[\(index)].value: must be 1 to 128 characters.")
            }
            if let type = attribute.targetType, type != "container-instance" {
                throw .invalidParameter("attributes[\(index)].targetType: must be container-instance.")
            }
            guard attribute.targetId != nil else {
                throw .invalidParameter("attributes[\(index)].targetId: is required.")
            }
        }
    }
}

extension AttributesRequest {
    public func validate() throws(ECSError) { try AttributeRules.check(attributes) }
}

extension ListAttributesRequest {
    public func validate() throws(ECSError) {
        _ = try Pagination.limit(maxResults, default: 100, max: 100)
        guard targetType == "container-instance" else {
            throw ECSError.invalidParameter("targetType: must be container-instance.")
        }
        if attributeValue != nil, attributeName == nil {
            throw ECSError.invalidParameter("attributeValue: needs attributeName.")
        }
    }
}
