// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Binary32} from "./Binary32.sol";
import {Binary32Folds} from "./Binary32Folds.sol";
import {Transcendentals} from "./Transcendentals.sol";

/// @title Binary32Harness
/// @notice Evaluates Binary32 over arrays in one call, for differential tests against
///         the engine's arithmetic. Op codes: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min,
///         6 sqrt (of a), 7 ge (1 or 0), 8 exp (of a), 9 log (of a).
contract Binary32Harness {
    error LengthMismatch(uint256 a, uint256 b);
    error UnknownOp(uint8 op);

    /// @notice out[i] = a[i] op b[i].
    function evaluate(uint8 op, uint32[] calldata a, uint32[] calldata b) external pure returns (uint32[] memory out) {
        if (a.length != b.length) revert LengthMismatch(a.length, b.length);
        out = new uint32[](a.length);
        for (uint256 i = 0; i < a.length; i++) out[i] = _apply(op, a[i], b[i]);
    }

    /// @notice The element program of a matmul over a[i], b[i].
    function dot(bytes calldata a, bytes calldata b) external pure returns (uint32) {
        if (a.length != b.length || a.length % 4 != 0) revert LengthMismatch(a.length, b.length);
        return Binary32Folds.dot(a, b);
    }

    function _apply(uint8 op, uint32 x, uint32 y) private pure returns (uint32) {
        if (op == 0) return Binary32.add(x, y);
        if (op == 1) return Binary32.sub(x, y);
        if (op == 2) return Binary32.mul(x, y);
        if (op == 3) return Binary32.div(x, y);
        if (op == 4) return Binary32.max(x, y);
        if (op == 5) return Binary32.min(x, y);
        if (op == 6) return Binary32.sqrt(x);
        if (op == 7) return Binary32.ge(x, y) ? 1 : 0;
        if (op == 8) return Transcendentals.exp(x);
        if (op == 9) return Transcendentals.log(x);
        revert UnknownOp(op);
    }
}
