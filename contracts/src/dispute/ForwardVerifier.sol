// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Openings} from "./Openings.sol";

/// @title ForwardVerifier
/// @notice The one-step verifier of forward programs (docs/inference.md): the training
///         step's verifier for groups 0–3, and the SamplingProver for group 4, the sampling
///         ops that end the program of a sampled answer. Training programs never hold
///         group 4, so the step verifier and the training game stay as they are; the
///         inference game is given this one.
/// @dev The call is forwarded as it came (the same function, the same calldata), as
///      StepVerifier forwards to its provers; f32 results are committed with NaN canonical.
contract ForwardVerifier is IOpProver {
    uint32 internal constant CANONICAL_NAN = 0x7fc00000;
    uint8 internal constant I32 = 1;
    uint8 internal constant SAMPLING = 4;

    /// @notice The step program's verifier (groups 0–3) and the sampling ops' prover (group 4).
    IOpProver public immutable step;
    IOpProver public immutable sampling;

    constructor(IOpProver step_, IOpProver sampling_) {
        step = step_;
        sampling = sampling_;
    }

    /// @notice Output element `element` of `op` from openings of its inputs, as
    ///         StepVerifier.evaluate, with the sampling ops too.
    /// @dev Requirements: a known op code (else Openings.UnknownOp); everything the op's
    ///      prover requires, whose errors this call passes on unchanged.
    function evaluate(
        StepOps.Op calldata op,
        uint256,
        StepOps.Context calldata,
        bytes32[] calldata,
        StepOps.Opening[] calldata
    ) external view override returns (uint32 value) {
        uint8 group = op.code >> 4;
        if (group > SAMPLING) revert Openings.UnknownOp(op.code);
        (bool ok, bytes memory ret) = address(group == SAMPLING ? sampling : step).staticcall(msg.data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        value = abi.decode(ret, (uint32));
        if (op.dtype != I32 && value & 0x7fffffff > 0x7f800000) value = CANONICAL_NAN;
    }
}
