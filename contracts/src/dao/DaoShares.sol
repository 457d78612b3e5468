// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title DaoShares
/// @notice The shares of a dataset DAO: non-transferable, checkpointed by timestamp so
///         votes and fork rights are read at a past moment that can no longer change.
/// @dev {_mint} and {_burn} are the only changes to shares. The DAO itself can never
///      hold shares: a DAO that held its own shares would give its majority votes (and
///      fork rights) that no member put at risk.
abstract contract DaoShares {
    using Checkpoints for Checkpoints.Trace208;

    mapping(address => Checkpoints.Trace208) internal shareHistory;
    Checkpoints.Trace208 internal totalHistory;

    event SharesChanged(address indexed member, uint256 oldShares, uint256 newShares);

    error InsufficientShares(address member, uint256 have, uint256 need);
    error InvalidMember(address member);

    /// @notice The shares `member` holds now.
    function sharesOf(address member) public view returns (uint256) {
        return shareHistory[member].latest();
    }

    /// @notice All shares outside the fork escrow, now.
    function totalShares() public view returns (uint256) {
        return totalHistory.latest();
    }

    /// @dev The shares `member` held at the end of second `timepoint` (public as IVotes' getPastVotes).
    function sharesAt(address member, uint48 timepoint) internal view returns (uint256) {
        return shareHistory[member].upperLookupRecent(timepoint);
    }

    /// @dev All shares outside the fork escrow at the end of second `timepoint` (public as getPastTotalSupply).
    function totalSharesAt(uint48 timepoint) internal view returns (uint256) {
        return totalHistory.upperLookupRecent(timepoint);
    }

    /// @dev The one place shares are created.
    function _mint(address member, uint256 shares) internal {
        if (member == address(0) || member == address(this)) revert InvalidMember(member);
        uint256 old = sharesOf(member);
        shareHistory[member].push(uint48(block.timestamp), SafeCast.toUint208(old + shares));
        totalHistory.push(uint48(block.timestamp), SafeCast.toUint208(totalShares() + shares));
        emit SharesChanged(member, old, old + shares);
    }

    /// @dev The one place shares are destroyed (escrowed to a fork or moved into one).
    function _burn(address member, uint256 shares) internal {
        uint256 old = sharesOf(member);
        if (shares > old) revert InsufficientShares(member, old, shares);
        // Cannot underflow: shares <= old <= totalShares().
        unchecked {
            shareHistory[member].push(uint48(block.timestamp), uint208(old - shares));
            totalHistory.push(uint48(block.timestamp), uint208(totalShares() - shares));
        }
        emit SharesChanged(member, old, old - shares);
    }
}
