// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {NodeMerkle} from "../dispute/NodeMerkle.sol";
import {InferenceDisputeTypes} from "./InferenceDisputeTypes.sol";

/// @title ReceiptWindow
/// @notice What a generated-token dispute reads from a receipt: its EIP-712 digest (as
///         packages/node/src/receipt.ts signs it), the token lists it hashes, and the
///         tensor root of the window the disputed token was generated from.
library ReceiptWindow {
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(address provider,uint256 service,uint64 issuedAt,bytes32 modelRoot,bytes32 promptHash,uint32 tokens,bool seeded,uint64 seed,uint32 temperatureBits,uint32 topK,uint32 topPBits,bytes32 outputHash,uint256 pricePer1k,uint256 cost,bytes32 channel,uint256 cumulative,uint256 spent)"
    );
    uint8 internal constant I32 = 1;

    /// @notice The digest of `r` under the domain ("Commons Receipt", "1", this chain, `registry`).
    function digest(InferenceDisputeTypes.Receipt calldata r, address registry) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Commons Receipt"),
                keccak256("1"),
                block.chainid,
                registry
            )
        );
        // Every field of Receipt is static: abi.encode lays it out as EIP-712 encodes it.
        return MessageHashUtils.toTypedDataHash(domain, keccak256(abi.encode(RECEIPT_TYPEHASH, r)));
    }

    /// @dev The tensor root (i32) of the program's tokens input: the last `length` tokens of
    ///      prompt ‖ output[0..index), then, for a sampled answer, the receipt's temperature
    ///      bits, top-k and top-p bits (the words the sampling ops read).
    function windowRoot(
        uint32[] calldata prompt,
        uint32[] calldata output,
        uint256 index,
        uint256 length,
        InferenceDisputeTypes.Receipt calldata r
    ) internal pure returns (bytes32) {
        uint32[] memory window = new uint32[](r.seeded ? length + 3 : length);
        if (r.seeded) {
            window[length] = r.temperatureBits;
            window[length + 1] = r.topK;
            window[length + 2] = r.topPBits;
        }
        uint256 start = prompt.length + index - length;
        for (uint256 i = 0; i < length; i++) {
            uint256 k = start + i;
            window[i] = k < prompt.length ? prompt[k] : output[k - prompt.length];
        }
        return i32Root(window);
    }

    /// @dev keccak256(nodeRoot of leaf hashes ‖ uint256 length ‖ uint8 1), leaves of 8
    ///      big-endian words zero padded (docs/design.md §5).
    function i32Root(uint32[] memory v) internal pure returns (bytes32) {
        bytes32[] memory leaves = new bytes32[]((v.length + 7) / 8);
        for (uint256 l = 0; l < leaves.length; l++) {
            bytes32 leaf;
            for (uint256 i = 0; i < 8 && l * 8 + i < v.length; i++) {
                leaf |= bytes32(uint256(v[l * 8 + i]) << (224 - 32 * i));
            }
            leaves[l] = keccak256(abi.encodePacked(uint8(0), leaf));
        }
        return keccak256(abi.encodePacked(NodeMerkle.root(leaves), v.length, I32));
    }

    /// @dev keccak256 of the token ids as 4 bytes each, as the receipt hashes them.
    function checkHash(uint32[] calldata tokens, bytes32 want) internal pure {
        bytes memory packed = new bytes(tokens.length * 4);
        for (uint256 i = 0; i < tokens.length; i++) {
            uint32 t = tokens[i];
            assembly {
                mstore(add(add(packed, 32), mul(i, 4)), shl(224, t))
            }
        }
        bytes32 have = keccak256(packed);
        if (have != want) revert InferenceDisputeTypes.TokensMismatch(have, want);
    }
}
