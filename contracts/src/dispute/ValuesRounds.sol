// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps} from "./StepOps.sol";
import {TensorMerkle} from "./TensorMerkle.sol";
import {DisputeGameTypes} from "./DisputeGameTypes.sol";

/// @title ValuesRounds
/// @notice The checks of a values round, shared by the training game (DisputeAvailability)
///         and the generated-token game (InferenceDisputes): which leaves a request may ask
///         for, and whether the values a prover reveals are the ones asked for, of the
///         right tensor, proven against its committed output root.
library ValuesRounds {
    /// @dev How many leaves a request for `asked` leaves from `firstLeaf` of an op output of
    ///      `length` elements gets (cut at the tensor's end). Reverts {BadRequest} for none,
    ///      more than `maxLeaves`, or a first leaf past the end.
    function requested(uint256 length, uint256 firstLeaf, uint256 asked, uint256 maxLeaves)
        internal
        pure
        returns (uint256 count)
    {
        uint256 leaves = (length + 7) / 8;
        if (asked == 0 || asked > maxLeaves || firstLeaf >= leaves) {
            revert DisputeGameTypes.BadRequest(firstLeaf, asked, leaves);
        }
        count = asked < leaves - firstLeaf ? asked : leaves - firstLeaf;
    }

    /// @dev Checks revealed values: the requested range (`first`, `count` leaves), the
    ///      requested tensor's length and dtype, and a range proof to `outputRoot`. Reverts
    ///      {NotRequested}, {OpeningShape}, {OpeningMismatch}.
    function checkProvided(
        StepOps.Opening calldata opening,
        uint64 first,
        uint32 count,
        uint64 length,
        uint8 dtype,
        bytes32 outputRoot
    ) internal pure {
        uint256 leaves = opening.words.length / 32;
        if (opening.firstLeaf != first || leaves != count || opening.words.length % 32 != 0) {
            revert DisputeGameTypes.NotRequested(opening.firstLeaf, leaves, first, count);
        }
        if (opening.length != length || opening.dtype != dtype) {
            revert DisputeGameTypes.OpeningShape(opening.length, opening.dtype, length, dtype);
        }
        bytes32 root =
            TensorMerkle.rootFromRange(opening.length, opening.dtype, opening.firstLeaf, opening.words, opening.siblings);
        if (root != outputRoot) revert DisputeGameTypes.OpeningMismatch(root, outputRoot);
    }
}
