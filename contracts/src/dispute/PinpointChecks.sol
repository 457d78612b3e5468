// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps} from "./StepOps.sol";
import {NodeMerkle} from "./NodeMerkle.sol";
import {TensorMerkle} from "./TensorMerkle.sol";
import {DisputeGameTypes as T} from "./DisputeGameTypes.sol";

/// @title PinpointChecks
/// @notice The checks of a pinpoint and a reveal that every pinpoint game shares (the
///         training step's DisputeGame, a generated token's InferenceDisputes): an op
///         against its program, an output root against the trace, every input root
///         against what binds it, and the committed element a reveal opens.
library PinpointChecks {
    /// @notice What an op's inputs are bound by in one dispute.
    struct Commitments {
        bytes32 slotsRoot; // nodeRoot of the slot tensor roots (S_t, or a served checkpoint)
        uint256 slots; // how many slots that root holds; 0: no slot may be read (INIT)
        bytes32 traceRoot; // nodeRoot of the op output roots
        uint256 ops; // how many ops the trace holds
        bytes32 tokensRoot; // the tokens input: the job's stream, or a generated token's window
    }

    /// @notice `leaf` at `index` of a NodeMerkle tree of `count` leaves with root `want`:
    ///         an op of the program, or (`output`) an op output root of the trace.
    function proveLeaf(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata proof, bytes32 want, bool output)
        internal
        pure
    {
        bytes32 root = NodeMerkle.rootFromLeaf(leaf, index, count, proof);
        if (root == want) return;
        if (output) revert T.OutputMismatch(index, root, want);
        revert T.OpMismatch(index, root, want);
    }

    /// @notice The tensor root of every input of op `opIndex`, each bound to `c` or, for
    ///         a constant, to the op itself.
    function inputRoots(
        Commitments memory c,
        uint256 opIndex,
        StepOps.OpInput[] calldata inputs,
        T.InputRoot[] calldata given
    ) internal pure returns (bytes32[] memory roots) {
        uint256 n = inputs.length;
        if (given.length != n) revert T.InputCount(given.length, n);
        roots = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            StepOps.OpInput calldata input = inputs[i];
            uint8 kind = input.kind;
            if (kind == StepOps.SLOT && c.slots != 0) {
                bytes32 root = NodeMerkle.rootFromLeaf(given[i].root, input.index, c.slots, given[i].proof);
                if (root != c.slotsRoot) revert T.InputMismatch(i, root, c.slotsRoot);
                roots[i] = given[i].root;
            } else if (kind == StepOps.OP) {
                if (input.index >= opIndex) revert T.ForwardInput(i, input.index, opIndex);
                bytes32 root = NodeMerkle.rootFromLeaf(given[i].root, input.index, c.ops, given[i].proof);
                if (root != c.traceRoot) revert T.InputMismatch(i, root, c.traceRoot);
                roots[i] = given[i].root;
            } else if (kind == StepOps.TOKENS) {
                roots[i] = c.tokensRoot;
            } else if (kind == StepOps.CONSTANT) {
                roots[i] = input.root;
            } else {
                // an unknown kind, or a slot where there are none (the state before S_0)
                revert T.InputKind(i, kind);
            }
        }
    }

    /// @notice The product of the dims; at most 2^64 - 1 so it packs into storage.
    function outputLength(uint32[] calldata dims) internal pure returns (uint256 length) {
        length = 1;
        for (uint256 i = 0; i < dims.length; i++) {
            length *= dims[i];
            if (length > type(uint64).max) revert T.ElementOutOfRange(0, length);
        }
    }

    /// @notice The committed word of `element` in `opening`, a range proof of the output
    ///         with `length` elements of `dtype` and tensor root `root`.
    function committedElement(
        StepOps.Opening calldata opening,
        uint256 length,
        uint8 dtype,
        bytes32 root,
        uint256 element
    ) internal pure returns (uint32) {
        if (opening.length != length || opening.dtype != dtype) {
            revert T.OpeningShape(opening.length, opening.dtype, length, dtype);
        }
        bytes32 have = TensorMerkle.rootFromRange(
            opening.length, opening.dtype, opening.firstLeaf, opening.words, opening.siblings
        );
        if (have != root) revert T.OpeningMismatch(have, root);
        // rootFromRange checked the range lies inside the tensor, so these cannot overflow.
        uint256 first = opening.firstLeaf * 8;
        uint256 end = first + opening.words.length / 4;
        if (element < first || element >= end) revert T.ElementNotOpened(element, first, end);
        uint256 offset = (element - first) * 4;
        return uint32(bytes4(opening.words[offset:offset + 4]));
    }
}
