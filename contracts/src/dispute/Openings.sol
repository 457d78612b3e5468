// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps} from "./StepOps.sol";
import {TensorMerkle} from "./TensorMerkle.sol";

/// @title Openings
/// @notice What every element prover (docs/step-program.md) shares: checking an op's
///         output element and attrs, checking an input's opening against its root and
///         the elements it must cover, and reading elements straight from calldata.
///         The errors of the step provers live here, in one place.
/// @dev An opening holds whole leaves: element j is the big-endian word at byte
///      (j − 8·firstLeaf)·4 of `words`. {range} returns the words of [first, last] as
///      one slice, so element first + k is word k of the slice ({word}).
library Openings {
    /// @notice The op's output has only `size` elements.
    error ElementPastEnd(uint256 element, uint256 size);
    /// @notice The op has `have` attrs; its code needs `need`.
    error MissingAttrs(uint8 code, uint256 have, uint256 need);
    /// @notice The op's output has rank `rank`; its code needs `need`.
    error WrongRank(uint8 code, uint256 rank, uint256 need);
    /// @notice No input root or no opening for input `input`.
    error MissingInput(uint256 input, uint256 roots, uint256 openings);
    /// @notice The opening of input `input` hashes to `have`, not to its root `want`.
    error WrongRoot(uint256 input, bytes32 have, bytes32 want);
    /// @notice Elements [first, last] of input `input` are not all within the opened
    ///         elements [openFirst, openEnd).
    error NotCovered(uint256 input, uint256 first, uint256 last, uint256 openFirst, uint256 openEnd);
    /// @notice Element `index` of input `input` is past its length.
    error PastEnd(uint256 input, uint256 index, uint256 length);
    /// @notice No prover for this op code.
    error UnknownOp(uint8 code);
    /// @notice GATHER: an index outside the table's rows.
    error IndexOutOfRange(int256 index, uint256 rows);
    /// @notice WINDOW: a tokens stream not longer than the window has no start offsets.
    error NoWindow(uint256 tokens, uint256 window);
    /// @notice An attr that divides or counts is zero.
    error ZeroAttr(uint8 code, uint256 attr);

    /// @notice Reverts unless `element` < product(dims); returns the product.
    function checkElement(uint32[] calldata dims, uint256 element) internal pure returns (uint256 size) {
        size = 1;
        for (uint256 d = 0; d < dims.length; d++) {
            size *= dims[d];
        }
        if (element >= size) revert ElementPastEnd(element, size);
    }

    /// @notice The op's attrs, reverting unless it has at least `need`.
    function attrs(StepOps.Op calldata op, uint256 need) internal pure returns (uint32[] calldata a) {
        a = op.attrs;
        if (a.length < need) revert MissingAttrs(op.code, a.length, need);
    }

    /// @notice Attr `k` of `a`, reverting if it is zero (a divisor or a count).
    function nonZero(uint8 code, uint32[] calldata a, uint256 k) internal pure returns (uint256) {
        if (a[k] == 0) revert ZeroAttr(code, k);
        return a[k];
    }

    /// @notice Opening `input`, reverting unless it proves its root: its `length` and
    ///         `dtype` are then the input's, its words the input's elements.
    function verified(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 input)
        internal
        pure
        returns (StepOps.Opening calldata o)
    {
        if (input >= roots.length || input >= openings.length) {
            revert MissingInput(input, roots.length, openings.length);
        }
        o = openings[input];
        bytes32 have = TensorMerkle.rootFromRange(o.length, o.dtype, o.firstLeaf, o.words, o.siblings);
        if (have != roots[input]) revert WrongRoot(input, have, roots[input]);
    }

    /// @notice The words of elements [first, last] (first <= last) of a verified opening.
    function range(StepOps.Opening calldata o, uint256 input, uint256 first, uint256 last)
        internal
        pure
        returns (bytes calldata w)
    {
        bytes calldata words = o.words;
        uint256 base = o.firstLeaf * 8;
        uint256 end = base + words.length / 4;
        if (first < base || last >= end) revert NotCovered(input, first, last, base, end);
        if (last >= o.length) revert PastEnd(input, last, o.length);
        w = words[(first - base) * 4:(last + 1 - base) * 4];
    }

    /// @notice The words of elements [first, last] of input `input`, checked.
    function open(
        bytes32[] calldata roots,
        StepOps.Opening[] calldata openings,
        uint256 input,
        uint256 first,
        uint256 last
    ) internal pure returns (bytes calldata) {
        return range(verified(roots, openings, input), input, first, last);
    }

    /// @notice Element `index` of input `input`, checked.
    function read(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 input, uint256 index)
        internal
        pure
        returns (uint32)
    {
        return word(open(roots, openings, input, index, index), 0);
    }

    /// @notice Word k of `w`; the caller keeps k below w.length / 4 (unchecked: a word
    ///         past the slice would read whatever calldata follows it).
    function word(bytes calldata w, uint256 k) internal pure returns (uint32 x) {
        assembly {
            x := shr(224, calldataload(add(w.offset, mul(k, 4))))
        }
    }

    /// @notice An i32 word as a signed integer.
    function i32(uint32 x) internal pure returns (int256) {
        return int256(int32(x));
    }
}
