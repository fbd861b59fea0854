/// Finds things that look like a payment card number (PAN) in free text, so that commands carrying
/// one are refused: Souk stores payment-method tokens and display data only.
public enum CardNumberDetector {
    /// True when `text` holds 13 to 19 digits in a row (spaces and dashes allowed between them) that
    /// pass the Luhn check.
    public static func containsCardNumber(_ text: String) -> Bool {
        var digits: [Int] = []
        // The whole run of digits, not windows of it: any 13-digit window of a long number passes Luhn
        // one time in ten, which would refuse harmless order or phone numbers.
        func check() -> Bool { (13...19).contains(digits.count) && luhn(digits[...]) }
        var separators = 0
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                digits.append(digit)
                separators = 0
            } else if (character == " " || character == "-") && !digits.isEmpty && separators == 0 {
                separators += 1
            } else {
                if check() { return true }
                digits.removeAll()
                separators = 0
            }
        }
        return check()
    }

    static func luhn(_ digits: ArraySlice<Int>) -> Bool {
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            if index % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }
}

import Contracts

extension CardNumberDetector {
    /// The JSON pointers of the string fields in `json` that hold a card number.
    public static func fieldsWithCardNumbers(in json: JSONValue, at pointer: String = "") -> [String] {
        switch json {
        case .string(let text): containsCardNumber(text) ? [pointer] : []
        case .array(let items): items.enumerated().flatMap { fieldsWithCardNumbers(in: $0.element, at: "\(pointer)/\($0.offset)") }
        case .object(let object): object.keys.sorted().flatMap { fieldsWithCardNumbers(in: object[$0]!, at: "\(pointer)/\($0)") }
        // A card number sent as a JSON number is a card number too.
        case .integer(let number): containsCardNumber(String(number)) ? [pointer] : []
        case .null, .bool, .number: []
        }
    }
}
