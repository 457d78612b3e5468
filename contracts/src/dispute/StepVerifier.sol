// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Openings} from "./Openings.sol";

/// @title StepVerifier
/// @notice The one-step verifier of the step program (docs/step-program.md): a thin
///         dispatcher by op group (`code >> 4`) over four provers behind IOpProver, which
///         commits f32 results with NaN canonical, as the engine's commitments do.
/// @dev The call is forwarded to the prover as it came (the same function, the same
///      calldata), so the openings are not decoded or copied twice.
contract StepVerifier is IOpProver {
    uint32 internal constant CANONICAL_NAN = 0x7fc00000;
    uint8 internal constant I32 = 1;

    /// @notice Provers of groups 0 (elementwise), 1 (reductions), 2 (indexing and data)
    ///         and 3 (optimiser).
    IOpProver public immutable elementwise;
    IOpProver public immutable reduce;
    IOpProver public immutable index;
    IOpProver public immutable optim;

    constructor(IOpProver elementwise_, IOpProver reduce_, IOpProver index_, IOpProver optim_) {
        elementwise = elementwise_;
        reduce = reduce_;
        index = index_;
        optim = optim_;
    }

    /// @notice Output element `element` of `op` from openings of its inputs: the
    ///         element's bit pattern, NaN canonical (0x7fc00000) when the output is f32
    ///         (dtype 0), i32 (dtype 1) words as they are.
    /// @dev Requirements: a known op code (else Openings.UnknownOp); everything its
    ///      group's prover requires, whose errors this call passes on unchanged.
    function evaluate(
        StepOps.Op calldata op,
        uint256,
        StepOps.Context calldata,
        bytes32[] calldata,
        StepOps.Opening[] calldata
    ) external view override returns (uint32 value) {
        uint8 code = op.code;
        uint8 group = code >> 4;
        IOpProver prover;
        if (group == 0) prover = elementwise;
        else if (group == 1) prover = reduce;
        else if (group == 2) prover = index;
        else if (group == 3) prover = optim;
        else revert Openings.UnknownOp(code);
        (bool ok, bytes memory ret) = address(prover).staticcall(msg.data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        value = abi.decode(ret, (uint32));
        if (op.dtype != I32 && value & 0x7fffffff > 0x7f800000) value = CANONICAL_NAN;
    }
}
